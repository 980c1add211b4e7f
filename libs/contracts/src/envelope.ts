import { createHash } from 'node:crypto';
import { v7 as timeOrderedUuid } from 'uuid';
import { z } from 'zod';

/**
 * Every event travels in the same envelope. `id` is unique per event and doubles as the
 * JetStream `Nats-Msg-Id`, so a publisher retry is de-duplicated by the server and a
 * redelivery is recognised by consumers. A new event's id is a UUIDv7, ordered by time, so the
 * tables that keep events by id (the directory's outbox) append to their primary-key index
 * instead of writing all over it.
 */
export const envelopeSchema = <T extends z.ZodType>(data: T, v: number) =>
  z
    .object({
      id: z.uuid(),
      v: z.literal(v),
      occurredAt: z.iso.datetime(),
      source: z.string().min(1),
      data,
    })
    .strict();

export interface Envelope<T> {
  id: string;
  v: number;
  occurredAt: string;
  source: string;
  data: T;
}

/** One event: its subject, schema version and payload schema. */
export interface EventContract<T extends z.ZodType = z.ZodType> {
  subject: string;
  v: number;
  data: T;
  envelope: z.ZodType<Envelope<z.infer<T>>>;
  /** JetStream stream that keeps this event. */
  stream: string;
  description: string;
}

export type EventData<C extends EventContract> = z.infer<C['data']>;
/** What a publisher passes: fields with defaults may be left out. */
export type EventInput<C extends EventContract> = z.input<C['data']>;

export function defineEvent<T extends z.ZodType>(def: { subject: string; v: number; stream: string; data: T; description: string }): EventContract<T> {
  return { ...def, envelope: envelopeSchema(def.data, def.v) as unknown as z.ZodType<Envelope<z.infer<T>>> };
}

export interface NewEventOptions {
  /** Deterministic id for events derived from another one (idempotent re-publication). */
  id?: string;
  occurredAt?: Date;
}

/** Builds and validates an envelope; throws a ZodError naming the bad field. */
export function createEvent<C extends EventContract>(contract: C, source: string, data: EventInput<C>, options: NewEventOptions = {}): Envelope<EventData<C>> {
  return contract.envelope.parse({
    id: options.id ?? timeOrderedUuid(),
    v: contract.v,
    occurredAt: (options.occurredAt ?? new Date()).toISOString(),
    source,
    data,
  }) as Envelope<EventData<C>>;
}

/** Validates an incoming envelope at the edge; returns a typed result, never throws. */
export function parseEvent<C extends EventContract>(contract: C, raw: unknown) {
  return contract.envelope.safeParse(raw);
}

/**
 * A stable UUID derived from a name (RFC 4122 version 5 layout over SHA-1 of a namespace
 * and the name). Used to give the event that answers another one a deterministic id, so a
 * redelivered input republishes the same id and JetStream drops the duplicate.
 */
export function derivedEventId(namespace: string, name: string): string {
  const hash = createHash('sha1').update(`${namespace}\u0000${name}`).digest();
  const b = Buffer.from(hash.subarray(0, 16));
  b[6] = (b[6] & 0x0f) | 0x50;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
