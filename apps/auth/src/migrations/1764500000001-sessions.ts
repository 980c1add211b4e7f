import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';
import { portableTypes } from '@bridgekeeper/data';

/** Server-side session records, so single logout can end a session everywhere. */
export class Sessions1764500000001 implements MigrationInterface {
  name = 'Sessions1764500000001';

  async up(qr: QueryRunner): Promise<void> {
    const t = portableTypes(qr);
    await qr.createTable(
      new Table({
        name: 'sessions',
        columns: [
          { name: 'id', type: t.id, length: '36', isPrimary: true },
          { name: 'user_id', type: t.id, length: '36' },
          { name: 'idp', type: 'varchar', length: '64' },
          { name: 'name_id', type: 'varchar', length: '255' },
          { name: 'name_id_format', type: 'varchar', length: '255', isNullable: true },
          { name: 'session_index', type: 'varchar', length: '255', isNullable: true },
          { name: 'created_at', type: t.timestamp },
          { name: 'expires_at', type: t.timestamp },
          { name: 'ended_at', type: t.timestamp, isNullable: true },
        ],
        indices: [
          new TableIndex({ name: 'ix_sessions_subject', columnNames: ['idp', 'name_id'] }),
          new TableIndex({ name: 'ix_sessions_expires_at', columnNames: ['expires_at'] }),
        ],
      }),
    );
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropTable('sessions');
  }
}
