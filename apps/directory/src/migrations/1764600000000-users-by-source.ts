import { MigrationInterface, QueryRunner, TableIndex } from 'typeorm';

/**
 * User Sync reads a connector's users in id order, a page at a time (`source = ? AND id > ?`).
 * Without (source, id) every page sorted all of the source's users: 100k users took 73 s.
 */
export class UsersBySource1764600000000 implements MigrationInterface {
  name = 'UsersBySource1764600000000';

  async up(qr: QueryRunner): Promise<void> {
    await qr.createIndex('users', new TableIndex({ name: 'ix_users_source_id', columnNames: ['source', 'id'] }));
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropIndex('users', 'ix_users_source_id');
  }
}
