/**
 * JetStream streams. Events are kept so a service that was down catches up; request/reply
 * subjects live under `rpc.` and are never captured by a stream.
 */
export const STREAMS = {
  USERS: { name: 'BK_USERS', subjects: ['user.>'] },
  SYNC: { name: 'BK_SYNC', subjects: ['sync.>'] },
  DIRECTORY: { name: 'BK_DIRECTORY', subjects: ['directory.>'] },
  DEAD_LETTERS: { name: 'BK_DEAD_LETTERS', subjects: ['deadletter.>'] },
} as const;

export type StreamDef = (typeof STREAMS)[keyof typeof STREAMS];

/** Where an event that could not be handled after its bounded redeliveries ends up. */
export const deadLetterSubject = (subject: string, consumer: string) => `deadletter.${consumer}.${subject}`;
