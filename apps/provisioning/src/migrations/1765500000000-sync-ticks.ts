import { MigrationInterface, QueryRunner, Table, TableColumn } from 'typeorm';
import { portableTypes } from '@bridgekeeper/data';

/**
 * Scheduled runs start once across provisioning instances: every instance fires each tick of a
 * connector's schedule, the first to insert its row (connector, mode, scheduled time) starts the
 * run, the others find the row and step aside, however late their timer fires. A scheduled run
 * records the tick it was started for.
 */
export class SyncTicks1765500000000 implements MigrationInterface {
  name = 'SyncTicks1765500000000';

  async up(qr: QueryRunner): Promise<void> {
    const t = portableTypes(qr);
    await qr.createTable(
      new Table({
        name: 'sync_ticks',
        columns: [
          { name: 'connector_id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'mode', type: 'varchar', length: '8', isPrimary: true },
          { name: 'scheduled_for', type: 'bigint', isPrimary: true },
          { name: 'claimed_at', type: t.timestamp },
        ],
      }),
    );
    await qr.addColumn('sync_runs', new TableColumn({ name: 'scheduled_for', type: 'bigint', isNullable: true }));
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropColumn('sync_runs', 'scheduled_for');
    await qr.dropTable('sync_ticks');
  }
}
