import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';
import { portableTypes } from '@bridgekeeper/data';

/** Per IdP, what an admin lets its logins change beyond what it owns: local groups it may grant, local accounts it may claim. */
export class IdpOwnershipGrants1764900000005 implements MigrationInterface {
  name = 'IdpOwnershipGrants1764900000005';

  async up(qr: QueryRunner): Promise<void> {
    const t = portableTypes(qr);
    await qr.addColumns('idp_settings', [
      new TableColumn({ name: 'grant_local_groups', type: t.json, default: "'[]'" }),
      new TableColumn({ name: 'claim_local_users', type: t.bool, default: false }),
    ]);
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropColumn('idp_settings', 'claim_local_users');
    await qr.dropColumn('idp_settings', 'grant_local_groups');
  }
}
