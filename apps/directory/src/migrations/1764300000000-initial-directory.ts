import { MigrationInterface, QueryRunner, Table, TableForeignKey, TableIndex } from 'typeorm';
import { createAuditLogTable, portableTypes } from '@bridgekeeper/data';

/** Users, groups, memberships, properties and the audit log; the same on PostgreSQL and SQLite. */
export class InitialDirectory1764300000000 implements MigrationInterface {
  name = 'InitialDirectory1764300000000';

  async up(qr: QueryRunner): Promise<void> {
    const t = portableTypes(qr);
    const id = { name: 'id', type: t.id, length: '36', isPrimary: true };
    await qr.createTable(
      new Table({
        name: 'users',
        columns: [
          id,
          { name: 'username', type: 'varchar', length: '255' },
          { name: 'username_lower', type: 'varchar', length: '255' },
          { name: 'email', type: 'varchar', length: '320', isNullable: true },
          { name: 'display_name', type: 'varchar', length: '255', isNullable: true },
          { name: 'active', type: t.bool, default: true },
          { name: 'source', type: 'varchar', length: '64' },
          { name: 'external_id', type: 'varchar', length: '255', isNullable: true },
          { name: 'last_login_at', type: t.timestamp, isNullable: true },
          { name: 'created_at', type: t.timestamp },
          { name: 'updated_at', type: t.timestamp },
        ],
        indices: [
          new TableIndex({ name: 'uq_users_username_lower', columnNames: ['username_lower'], isUnique: true }),
          new TableIndex({ name: 'uq_users_source_external', columnNames: ['source', 'external_id'], isUnique: true }),
        ],
      }),
    );
    await qr.createTable(
      new Table({
        name: 'groups',
        columns: [
          id,
          { name: 'name', type: 'varchar', length: '255' },
          { name: 'name_lower', type: 'varchar', length: '255' },
          { name: 'description', type: t.text, isNullable: true },
          { name: 'source', type: 'varchar', length: '64' },
          { name: 'created_at', type: t.timestamp },
        ],
        indices: [new TableIndex({ name: 'uq_groups_name_lower', columnNames: ['name_lower'], isUnique: true })],
      }),
    );
    await qr.createTable(
      new Table({
        name: 'memberships',
        columns: [
          { name: 'user_id', type: t.id, length: '36', isPrimary: true },
          { name: 'group_id', type: t.id, length: '36', isPrimary: true },
          { name: 'created_at', type: t.timestamp },
        ],
        foreignKeys: [
          new TableForeignKey({ columnNames: ['user_id'], referencedTableName: 'users', referencedColumnNames: ['id'], onDelete: 'CASCADE' }),
          new TableForeignKey({ columnNames: ['group_id'], referencedTableName: 'groups', referencedColumnNames: ['id'], onDelete: 'CASCADE' }),
        ],
        indices: [new TableIndex({ name: 'ix_memberships_group', columnNames: ['group_id'] })],
      }),
    );
    await qr.createTable(
      new Table({
        name: 'user_properties',
        columns: [
          { name: 'user_id', type: t.id, length: '36', isPrimary: true },
          { name: 'key', type: 'varchar', length: '255', isPrimary: true },
          { name: 'value', type: t.text },
        ],
        foreignKeys: [new TableForeignKey({ columnNames: ['user_id'], referencedTableName: 'users', referencedColumnNames: ['id'], onDelete: 'CASCADE' })],
      }),
    );
    await createAuditLogTable(qr);
  }

  async down(qr: QueryRunner): Promise<void> {
    for (const table of ['audit_log', 'user_properties', 'memberships', 'groups', 'users']) await qr.dropTable(table);
  }
}
