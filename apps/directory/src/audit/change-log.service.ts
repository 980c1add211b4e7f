import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { createEvent, directoryEventFor } from '@bridgekeeper/contracts';
import { insertMany, runInTransaction, writeAudit } from '@bridgekeeper/platform';
import { OutboxEventEntity } from '../outbox/outbox-event.entity';
import { OutboxRelay } from '../outbox/outbox.relay';

export type TargetType = 'user' | 'group' | 'membership' | 'property' | 'token';

export interface Change {
  /** `admin-token:<id>`, `login:<traceId>`, `sync:<runId>`, `cli:<user>`. */
  actor: string;
  /** `user.created`, `membership.removed`, … (the directory event is `directory.<action>`). */
  action: string;
  targetType: TargetType;
  targetId: string;
  before?: object | null;
  after?: object | null;
}

/**
 * Every change to the directory goes through here: the work, its audit rows and its outbox
 * events commit together or not at all; the events are published right after.
 */
@Injectable()
export class ChangeLog {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly relay: OutboxRelay,
  ) {}

  async run<T>(work: (em: EntityManager, changes: Change[]) => Promise<T>): Promise<T> {
    let events: OutboxEventEntity[] = [];
    const result = await runInTransaction(this.db, async (em) => {
      const changes: Change[] = [];
      const out = await work(em, changes);
      events = await this.write(em, changes);
      return out;
    });
    // Committed: the relay publishes these from memory. Nothing written, nothing to publish.
    if (events.length) this.relay.committed(events);
    return result;
  }

  private async write(em: EntityManager, changes: Change[]): Promise<OutboxEventEntity[]> {
    if (changes.length === 0) return [];
    const at = new Date();
    const events = changes.flatMap((c) => {
      const contract = c.targetType === 'token' ? undefined : directoryEventFor(c.action);
      if (!contract) return [];
      const event = createEvent(contract, 'directory', {
        targetType: c.targetType as 'user',
        targetId: c.targetId,
        actor: c.actor,
        before: (c.before ?? null) as Record<string, unknown> | null,
        after: (c.after ?? null) as Record<string, unknown> | null,
      });
      return [em.create(OutboxEventEntity, { id: event.id, subject: contract.subject, payload: JSON.stringify(event), createdAt: at, publishedAt: null })];
    });
    await writeAudit(em, changes, at);
    await insertMany(em, OutboxEventEntity, events);
    return events;
  }
}
