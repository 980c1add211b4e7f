import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';
import { portableTypes } from '@bridgekeeper/data';

/**
 * Who a session belongs to moves from its cookie token to its row: a token holding every group
 * grew past the 4 KB a browser keeps for a cookie (about a hundred groups) and was dropped.
 * Sessions from before keep their claims in their token (the columns stay null for them).
 */
export class SessionClaims1764900000002 implements MigrationInterface {
  name = 'SessionClaims1764900000002';

  async up(qr: QueryRunner): Promise<void> {
    const t = portableTypes(qr);
    await qr.addColumns('sessions', [
      new TableColumn({ name: 'username', type: 'varchar', length: '255', isNullable: true }),
      new TableColumn({ name: 'email', type: 'varchar', length: '320', isNullable: true }),
      new TableColumn({ name: 'display_name', type: 'varchar', length: '255', isNullable: true }),
      new TableColumn({ name: 'groups', type: t.text, isNullable: true }),
    ]);
  }

  async down(qr: QueryRunner): Promise<void> {
    for (const c of ['groups', 'display_name', 'email', 'username']) await qr.dropColumn('sessions', c);
  }
}
