import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { StreamMessage } from '@bridgekeeper/messaging';

/**
 * The events of one committed transaction, written in it and published afterwards. One row per
 * transaction, not per event: a first sync of 100,000 users commits 601,000 events, and a row,
 * an index entry and a "published" update for each cost PostgreSQL four times the CPU of a row
 * per batch. Each event is still published on its own subject under its own id.
 */
@Entity({ name: 'outbox_batches' })
export class OutboxBatchEntity {
  /** The first event's id. */
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  /** JSON: `[{ id, subject, event }, …]`, in the order of the changes. */
  @Column({ type: 'text' })
  events: string;

  @Column({ name: 'created_at' })
  createdAt: Date;

  @Column({ name: 'published_at', type: Date, nullable: true })
  publishedAt: Date | null;
}

/** A committed batch on its way to JetStream: its row's id and its events as they are published. */
export interface OutboxBatch {
  id: string;
  messages: StreamMessage[];
}

/** The row that holds these events (each `data` is the event's JSON). */
export function outboxRow(messages: readonly StreamMessage[], createdAt: Date): OutboxBatchEntity {
  const events = messages.map((m) => `{"id":${JSON.stringify(m.msgId)},"subject":${JSON.stringify(m.subject)},"event":${m.data as string}}`);
  return { id: messages[0].msgId, events: `[${events.join(',')}]`, createdAt, publishedAt: null };
}

/** The events a row holds, as they were written. */
export function outboxBatch(row: Pick<OutboxBatchEntity, 'id' | 'events'>): OutboxBatch {
  const events = JSON.parse(row.events) as { id: string; subject: string; event: unknown }[];
  return { id: row.id, messages: events.map((e) => ({ subject: e.subject, data: JSON.stringify(e.event), msgId: e.id })) };
}
