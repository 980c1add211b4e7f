/**
 * JetStream streams. Events are kept so a service that was down catches up; request/reply
 * subjects live under `rpc.` and are never captured by a stream.
 */
export const STREAMS = {
  USERS: { name: 'BK_USERS', subjects: ['user.>'] },
  SYNC: { name: 'BK_SYNC', subjects: ['sync.>'] },
  DIRECTORY: { name: 'BK_DIRECTORY', subjects: ['directory.>'] },
  IDPS: { name: 'BK_IDPS', subjects: ['idp.>'] },
  DEAD_LETTERS: { name: 'BK_DEAD_LETTERS', subjects: ['deadletter.>'] },
} as const;

export type StreamDef = (typeof STREAMS)[keyof typeof STREAMS];

/** Where an event that could not be handled after its bounded redeliveries ends up. */
export const deadLetterSubject = (subject: string, consumer: string) => `deadletter.${consumer}.${subject}`;

/** Durable consumers other services watch the dead letters of. */
export const CONSUMERS = {
  /** provisioning's handler of user.authenticated: its dead letters fail the waiting login. */
  provisioningLogins: 'provisioning__user-authenticated',
} as const;

/** What a dead letter carries. */
export interface DeadLetter {
  consumer: string;
  subject: string;
  deliveries: number;
  error: string;
  failedAt: string;
  event: unknown;
}
