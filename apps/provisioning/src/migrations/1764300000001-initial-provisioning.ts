import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { portableTypes } from '@bridgekeeper/data';

export class InitialProvisioning1764300000001 implements MigrationInterface {
  name = 'InitialProvisioning1764300000001';

  async up(qr: QueryRunner): Promise<void> {
    const t = portableTypes(qr);
    await qr.createTable(
      new Table({
        name: 'processed_events',
        columns: [
          { name: 'event_id', type: t.id, length: '36', isPrimary: true },
          { name: 'subject', type: 'varchar', length: '64' },
          { name: 'outcome', type: 'varchar', length: '32' },
          { name: 'processed_at', type: t.timestamp },
        ],
      }),
    );
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropTable('processed_events');
  }
}
