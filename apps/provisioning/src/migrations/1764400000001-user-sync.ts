import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';
import { createAuditLogTable, portableTypes } from '@bridgekeeper/data';

/** User Sync connectors, runs, the one-run-at-a-time lock, and provisioning's audit log. */
export class UserSync1764400000001 implements MigrationInterface {
  name = 'UserSync1764400000001';

  async up(qr: QueryRunner): Promise<void> {
    const t = portableTypes(qr);
    await qr.createTable(
      new Table({
        name: 'connectors',
        columns: [
          { name: 'id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'idp', type: 'varchar', length: '64' },
          { name: 'base_url', type: 'varchar', length: '500' },
          { name: 'realm', type: 'varchar', length: '255' },
          { name: 'client_id', type: 'varchar', length: '255' },
          { name: 'client_secret_enc', type: t.text },
          { name: 'options', type: t.json },
          { name: 'schedule', type: 'varchar', length: '100' },
          { name: 'enabled', type: t.bool, default: true },
          { name: 'created_at', type: t.timestamp },
          { name: 'updated_at', type: t.timestamp },
        ],
      }),
    );
    await qr.createTable(
      new Table({
        name: 'sync_runs',
        columns: [
          { name: 'id', type: t.id, length: '36', isPrimary: true },
          { name: 'connector_id', type: 'varchar', length: '64' },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'trigger', type: 'varchar', length: '16' },
          { name: 'requested_by', type: 'varchar', length: '128' },
          { name: 'dry_run', type: t.bool, default: false },
          { name: 'progress', type: t.json },
          { name: 'counts', type: t.json, isNullable: true },
          { name: 'plan', type: t.json, isNullable: true },
          { name: 'reason', type: t.text, isNullable: true },
          { name: 'directory_writes', type: 'integer', default: 0 },
          { name: 'started_at', type: t.timestamp },
          { name: 'finished_at', type: t.timestamp, isNullable: true },
        ],
        indices: [new TableIndex({ name: 'ix_sync_runs_connector', columnNames: ['connector_id', 'started_at'] })],
      }),
    );
    await qr.createTable(
      new Table({
        name: 'sync_locks',
        columns: [
          { name: 'connector_id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'run_id', type: t.id, length: '36' },
          { name: 'expires_at', type: t.timestamp },
        ],
      }),
    );
    await createAuditLogTable(qr);
  }

  async down(qr: QueryRunner): Promise<void> {
    for (const table of ['audit_log', 'sync_locks', 'sync_runs', 'connectors']) await qr.dropTable(table);
  }
}
