import { MigrationInterface, QueryRunner, Table, TableColumn, TableIndex } from 'typeorm';
import { portableTypes } from '@bridgekeeper/data';

/** Admin API tokens, the event outbox, and case-insensitive unique emails. */
export class AdminApi1764400000000 implements MigrationInterface {
  name = 'AdminApi1764400000000';

  async up(qr: QueryRunner): Promise<void> {
    const t = portableTypes(qr);
    await qr.createTable(
      new Table({
        name: 'api_tokens',
        columns: [
          { name: 'id', type: 'varchar', length: '16', isPrimary: true },
          { name: 'name', type: 'varchar', length: '100' },
          { name: 'role', type: 'varchar', length: '16' },
          { name: 'secret_hash', type: 'varchar', length: '64' },
          { name: 'created_at', type: t.timestamp },
          { name: 'created_by', type: 'varchar', length: '128' },
          { name: 'last_used_at', type: t.timestamp, isNullable: true },
          { name: 'revoked_at', type: t.timestamp, isNullable: true },
        ],
      }),
    );
    await qr.createTable(
      new Table({
        name: 'outbox_events',
        columns: [
          { name: 'id', type: t.id, length: '36', isPrimary: true },
          { name: 'subject', type: 'varchar', length: '128' },
          { name: 'payload', type: t.text },
          { name: 'created_at', type: t.timestamp },
          { name: 'published_at', type: t.timestamp, isNullable: true },
        ],
        indices: [new TableIndex({ name: 'ix_outbox_unpublished', columnNames: ['published_at', 'created_at'] })],
      }),
    );
    await qr.addColumn('users', new TableColumn({ name: 'email_lower', type: 'varchar', length: '320', isNullable: true }));
    await qr.query(`UPDATE users SET email_lower = LOWER(email) WHERE email IS NOT NULL`);
    await qr.createIndex('users', new TableIndex({ name: 'uq_users_email_lower', columnNames: ['email_lower'], isUnique: true }));
    await qr.createIndex('users', new TableIndex({ name: 'ix_users_created_at', columnNames: ['created_at'] }));
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropIndex('users', 'ix_users_created_at');
    await qr.dropIndex('users', 'uq_users_email_lower');
    await qr.dropColumn('users', 'email_lower');
    await qr.dropTable('outbox_events');
    await qr.dropTable('api_tokens');
  }
}
