import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AuditEntryEntity } from './audit-entry.entity';

export interface AuditChange {
  actor: string;
  action: string;
  targetType: 'user' | 'group' | 'membership' | 'property';
  targetId: string;
  before?: Record<string, unknown> | object;
  after?: Record<string, unknown> | object;
}

/** Writes audit rows inside the caller's transaction, so no change lands without one. */
@Injectable()
export class AuditService {
  async record(em: EntityManager, changes: AuditChange[]): Promise<void> {
    if (changes.length === 0) return;
    const at = new Date();
    const rows = changes.map((c) =>
      em.create(AuditEntryEntity, {
        id: crypto.randomUUID(),
        at,
        actor: c.actor,
        action: c.action,
        targetType: c.targetType,
        targetId: c.targetId,
        before: (c.before ?? null) as Record<string, unknown> | null,
        after: (c.after ?? null) as Record<string, unknown> | null,
      }),
    );
    await em.save(AuditEntryEntity, rows, { reload: false });
  }
}
