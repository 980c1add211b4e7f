import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { createAuditLogTable, portableTypes } from '@bridgekeeper/data';

/** IdPs managed through the admin API, and auth's audit log. */
export class Idps1764400000002 implements MigrationInterface {
  name = 'Idps1764400000002';

  async up(qr: QueryRunner): Promise<void> {
    const t = portableTypes(qr);
    await qr.createTable(
      new Table({
        name: 'idps',
        columns: [
          { name: 'id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'name', type: 'varchar', length: '255' },
          { name: 'enabled', type: t.bool, default: true },
          { name: 'metadata_url', type: 'varchar', length: '1000', isNullable: true },
          { name: 'metadata', type: t.json, isNullable: true },
          { name: 'metadata_fetched_at', type: t.timestamp, isNullable: true },
          { name: 'metadata_error', type: t.text, isNullable: true },
          { name: 'options', type: t.json },
          { name: 'created_at', type: t.timestamp },
          { name: 'updated_at', type: t.timestamp },
        ],
      }),
    );
    await createAuditLogTable(qr);
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropTable('audit_log');
    await qr.dropTable('idps');
  }
}
