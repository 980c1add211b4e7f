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

  /**
   * One line per event, in the order of the changes: `<id> <subject> <event JSON>` (neither the id
   * nor the subject holds a space, and JSON text no line break), so reading a batch back is a split,
   * not a parse and a serialization of every event.
   */
  @Column({ type: 'text' })
  events: string;

  @Column({ name: 'created_at' })
  createdAt: Date;

  @Column({ name: 'published_at', type: Date, nullable: true })
  publishedAt: Date | null;
}

/** An event as it is published: its JSON text, subject and id. */
export type OutboxMessage = StreamMessage & { data: string };

/** A committed batch on its way to JetStream: its row's id and its events as they are published. */
export interface OutboxBatch {
  id: string;
  messages: OutboxMessage[];
}

/** The row that holds these events (each `data` is the event's JSON, as `JSON.stringify` writes it). */
export function outboxRow(messages: readonly OutboxMessage[], createdAt: Date): OutboxBatchEntity {
  const lines = messages.map((m) => {
    if (/\s/.test(m.msgId) || /\s/.test(m.subject) || m.data.includes('\n'))
      throw new Error(`an outbox event cannot hold white space in its id or subject, nor a line break in its JSON: ${m.msgId} ${m.subject}`);
    return `${m.msgId} ${m.subject} ${m.data}`;
  });
  return { id: messages[0].msgId, events: lines.join('\n'), createdAt, publishedAt: null };
}

/** The events a row holds, as they were written. */
export function outboxBatch(row: Pick<OutboxBatchEntity, 'id' | 'events'>): OutboxBatch {
  const messages = row.events.split('\n').map((line) => {
    const i = line.indexOf(' ');
    const j = line.indexOf(' ', i + 1);
    return { msgId: line.slice(0, i), subject: line.slice(i + 1, j), data: line.slice(j + 1) };
  });
  return { id: row.id, messages };
}
