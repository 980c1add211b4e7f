import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { portableTypes } from '@bridgekeeper/data';

/** The IdPs provisioning has heard of from auth (idp.* events): settings exist only for those. */
export class KnownIdps1765100000001 implements MigrationInterface {
  name = 'KnownIdps1765100000001';

  async up(qr: QueryRunner): Promise<void> {
    const t = portableTypes(qr);
    await qr.createTable(
      new Table({
        name: 'known_idps',
        columns: [
          { name: 'idp', type: 'varchar', length: '64', isPrimary: true },
          { name: 'deleted', type: t.bool },
          { name: 'version', type: 'varchar', length: '24' },
        ],
      }),
    );
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropTable('known_idps');
  }
}
