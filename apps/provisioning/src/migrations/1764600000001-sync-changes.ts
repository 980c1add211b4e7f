import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/**
 * Changes runs: each run records whether it read the whole realm or only what Keycloak's events
 * named, and the Keycloak time up to which it accounted for every change (where the next changes
 * run starts reading); each connector gets a schedule for changes runs.
 */
export class SyncChanges1764600000001 implements MigrationInterface {
  name = 'SyncChanges1764600000001';

  async up(qr: QueryRunner): Promise<void> {
    await qr.addColumns('sync_runs', [
      new TableColumn({ name: 'mode', type: 'varchar', length: '8', default: "'full'" }),
      new TableColumn({ name: 'changes_until', type: 'bigint', isNullable: true }),
    ]);
    await qr.addColumn('connectors', new TableColumn({ name: 'changes_schedule', type: 'varchar', length: '100', default: "''" }));
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropColumn('connectors', 'changes_schedule');
    await qr.dropColumns('sync_runs', ['changes_until', 'mode']);
  }
}
