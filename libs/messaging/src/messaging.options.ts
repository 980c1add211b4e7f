export interface MessagingOptions {
  /** e.g. nats://127.0.0.1:4222 */
  servers: string;
  /** Service name: the envelope `source` and the NATS connection name. */
  service: string;
  /** How many times an event is delivered before it goes to the dead-letter subject. */
  maxDeliver?: number;
  /** How long a handler may take before JetStream redelivers (ms). */
  ackWaitMs?: number;
  /** Events handled at once per consumer. */
  concurrency?: number;
  /** JetStream de-duplication window (ms). */
  duplicateWindowMs?: number;
}

export const MESSAGING_OPTIONS = Symbol('MESSAGING_OPTIONS');

export const DEFAULTS = {
  maxDeliver: 5,
  ackWaitMs: 30_000,
  concurrency: 8,
  duplicateWindowMs: 10 * 60_000,
  maxAgeMs: 7 * 24 * 3600_000,
} as const;
