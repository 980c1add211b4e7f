import { QueryRunner, Table, TableIndex } from 'typeorm';
import { portableTypes } from '../database';

/** The audit_log table every service keeps in its own schema (the same columns everywhere). */
export async function createAuditLogTable(qr: QueryRunner): Promise<void> {
  const t = portableTypes(qr);
  await qr.createTable(
    new Table({
      name: 'audit_log',
      columns: [
        { name: 'id', type: t.id, length: '36', isPrimary: true },
        { name: 'at', type: t.timestamp },
        { name: 'actor', type: 'varchar', length: '128' },
        { name: 'action', type: 'varchar', length: '64' },
        { name: 'target_type', type: 'varchar', length: '32' },
        { name: 'target_id', type: 'varchar', length: '255' },
        { name: 'before', type: t.json, isNullable: true },
        { name: 'after', type: t.json, isNullable: true },
      ],
      indices: [
        new TableIndex({ name: 'ix_audit_log_at', columnNames: ['at'] }),
        new TableIndex({ name: 'ix_audit_log_target', columnNames: ['target_type', 'target_id'] }),
      ],
    }),
  );
}
