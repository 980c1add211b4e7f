import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { createEvent, directoryEventFor } from '@bridgekeeper/contracts';
import type { Change } from '../domain/change-set';
import { runInTransaction, writeAudit } from '@bridgekeeper/data';
import { OutboxBatch, OutboxBatchEntity, OutboxMessage, outboxRow } from '../outbox/outbox-batch.entity';
import { OutboxRelay } from '../outbox/outbox.relay';

export type { Change, ChangeAction, TargetType } from '../domain/change-set';

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
    let batch: OutboxBatch | undefined;
    const result = await runInTransaction(this.db, async (em) => {
      const changes: Change[] = [];
      const out = await work(em, changes);
      batch = await this.write(em, changes);
      return out;
    });
    // Committed: the relay publishes these from memory. Nothing written, nothing to publish.
    if (batch) this.relay.committed([batch]);
    return result;
  }

  /** The audit rows, one per change, and the transaction's events, one outbox row for them all. */
  private async write(em: EntityManager, changes: Change[]): Promise<OutboxBatch | undefined> {
    if (changes.length === 0) return undefined;
    const at = new Date();
    const messages: OutboxMessage[] = [];
    for (const c of changes) {
      // Actions without a declared event (token.created) are audited only.
      const contract = directoryEventFor(c.action);
      if (!contract) continue;
      const event = createEvent(contract, 'directory', {
        targetType: c.targetType,
        targetId: c.targetId,
        actor: c.actor,
        before: (c.before ?? null) as Record<string, unknown> | null,
        after: (c.after ?? null) as Record<string, unknown> | null,
      });
      messages.push({ subject: contract.subject, data: JSON.stringify(event), msgId: event.id });
    }
    await writeAudit(em, changes, at);
    if (messages.length === 0) return undefined;
    const row = outboxRow(messages, at);
    await em.insert(OutboxBatchEntity, row);
    return { id: row.id, messages };
  }
}
