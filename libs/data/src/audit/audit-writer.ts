import { EntityManager } from 'typeorm';
import { v7 as timeOrderedUuid } from 'uuid';
import { insertMany } from '../database';
import { AuditEntryEntity } from './audit-entry.entity';

export interface AuditRecord {
  /** `admin-token:<id>`, `login:<traceId>`, `sync:<runId>`, `cli:<user>`. */
  actor: string;
  action: string;
  targetType: string;
  targetId: string;
  before?: object | null;
  after?: object | null;
}

/**
 * Writes audit rows inside the caller's transaction: a change and its audit row commit together.
 * Row ids are UUIDv7 (ordered by time), so a large run's rows append to the primary-key index.
 */
export async function writeAudit(em: EntityManager, records: AuditRecord[], at = new Date()): Promise<void> {
  const rows = records.map((c) =>
    em.create(AuditEntryEntity, { id: timeOrderedUuid(), at, actor: c.actor, action: c.action, targetType: c.targetType, targetId: c.targetId, before: c.before ?? null, after: c.after ?? null }),
  );
  await insertMany(em, AuditEntryEntity, rows);
}
