import { MigrationInterface, QueryRunner, Table, TableColumn } from 'typeorm';
import { portableTypes } from '@bridgekeeper/data';

/**
 * Held runs keep the plan they show: the whole plan and the directory state it was computed from
 * (`sync_held_plans`), and its digest on the run, which an approval quotes. Runs held before this
 * migration have no stored plan and cannot be approved (a new run plans afresh).
 */
export class HeldPlans1765300000000 implements MigrationInterface {
  name = 'HeldPlans1765300000000';

  async up(qr: QueryRunner): Promise<void> {
    const t = portableTypes(qr);
    await qr.addColumn('sync_runs', new TableColumn({ name: 'plan_digest', type: 'varchar', length: '64', isNullable: true }));
    await qr.createTable(
      new Table({
        name: 'sync_held_plans',
        columns: [
          { name: 'run_id', type: t.id, length: '36', isPrimary: true },
          { name: 'plan', type: t.json },
          { name: 'basis', type: t.json },
          { name: 'as_of', type: 'bigint' },
          { name: 'created_at', type: t.timestamp },
        ],
      }),
    );
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropTable('sync_held_plans');
    await qr.dropColumn('sync_runs', 'plan_digest');
  }
}
