import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { portableTypes } from '@bridgekeeper/data';

/** Provisioning settings per IdP (model, attribute mapping, JIT options). */
export class IdpSettings1764500000002 implements MigrationInterface {
  name = 'IdpSettings1764500000002';

  async up(qr: QueryRunner): Promise<void> {
    const t = portableTypes(qr);
    await qr.createTable(
      new Table({
        name: 'idp_settings',
        columns: [
          { name: 'idp', type: 'varchar', length: '64', isPrimary: true },
          { name: 'model', type: 'varchar', length: '8' },
          { name: 'mapping', type: t.json },
          { name: 'update_on_login', type: t.bool, default: true },
          { name: 'updated_at', type: t.timestamp },
        ],
      }),
    );
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropTable('idp_settings');
  }
}
