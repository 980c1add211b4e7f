import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';
import { portableTypes } from '@bridgekeeper/data';

/**
 * Offboarding: sessions are found by user (a disabled or deleted user loses all of them), and
 * `user_access` remembers, per user, whether the directory last said they may sign in (from its
 * user.disabled / user.deleted / user.enabled events, the newest event winning), so a session
 * written by a login that was in flight as the user was disabled is refused too.
 */
export class UserAccess1764900000001 implements MigrationInterface {
  name = 'UserAccess1764900000001';

  async up(qr: QueryRunner): Promise<void> {
    const t = portableTypes(qr);
    await qr.createIndex('sessions', new TableIndex({ name: 'ix_sessions_user', columnNames: ['user_id'] }));
    await qr.createTable(
      new Table({
        name: 'user_access',
        columns: [
          { name: 'user_id', type: t.id, length: '36', isPrimary: true },
          { name: 'revoked', type: 'boolean' },
          { name: 'changed_at', type: t.timestamp },
        ],
      }),
    );
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropTable('user_access');
    await qr.dropIndex('sessions', 'ix_sessions_user');
  }
}
