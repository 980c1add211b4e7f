import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';
import { portableTypes } from '@bridgekeeper/data';

/**
 * A held plan keeps what an approval checks besides its users' state: a digest of the IdP's
 * provisioning settings it was planned under, and who held the names it gives users. Plans held
 * before this migration have neither (and a digest not bound to their run): they cannot be
 * approved; a new run plans afresh.
 */
export class HeldPlanGuards1765400000000 implements MigrationInterface {
  name = 'HeldPlanGuards1765400000000';

  async up(qr: QueryRunner): Promise<void> {
    const t = portableTypes(qr);
    await qr.addColumn('sync_held_plans', new TableColumn({ name: 'settings_digest', type: 'varchar', length: '64', isNullable: true }));
    await qr.addColumn('sync_held_plans', new TableColumn({ name: 'names', type: t.json, isNullable: true }));
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropColumn('sync_held_plans', 'names');
    await qr.dropColumn('sync_held_plans', 'settings_digest');
  }
}
