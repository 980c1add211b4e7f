import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';
import { portableTypes } from '@bridgekeeper/data';

/** Users no IdP or connector may claim, link or change (local administrators, the break-glass account). */
export class ProtectedUsers1764900000004 implements MigrationInterface {
  name = 'ProtectedUsers1764900000004';

  async up(qr: QueryRunner): Promise<void> {
    const t = portableTypes(qr);
    await qr.addColumn('users', new TableColumn({ name: 'protected', type: t.bool, default: false }));
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropColumn('users', 'protected');
  }
}
