import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';
import { portableTypes } from '@bridgekeeper/data';

/**
 * The outbox keeps one row per committed transaction (`outbox_batches`) instead of one per event
 * (`outbox_events`). Events still to publish move over, one batch each; published ones were kept
 * only for the retention (the events are in JetStream, the changes in the audit log).
 */
export class OutboxBatches1764800000000 implements MigrationInterface {
  name = 'OutboxBatches1764800000000';

  async up(qr: QueryRunner): Promise<void> {
    const t = portableTypes(qr);
    await qr.createTable(
      new Table({
        name: 'outbox_batches',
        columns: [
          { name: 'id', type: t.id, length: '36', isPrimary: true },
          { name: 'events', type: t.text },
          { name: 'created_at', type: t.timestamp },
          { name: 'published_at', type: t.timestamp, isNullable: true },
        ],
      }),
    );
    await qr.createIndex('outbox_batches', new TableIndex({ name: 'ix_outbox_batches_pending', columnNames: ['created_at'], where: 'published_at IS NULL' }));
    await qr.query(
      `INSERT INTO outbox_batches (id, events, created_at, published_at)
       SELECT id, id || ' ' || subject || ' ' || payload, created_at, published_at
         FROM outbox_events WHERE published_at IS NULL`,
    );
    await qr.dropTable('outbox_events');
  }

  async down(qr: QueryRunner): Promise<void> {
    // Batches cannot be split back into rows portably: going back waits until none is pending.
    const [{ n }] = await qr.query(`SELECT COUNT(*) AS n FROM outbox_batches WHERE published_at IS NULL`);
    if (Number(n) > 0) throw new Error(`${n} outbox batches are not published yet: start the directory with NATS reachable until they are, then migrate down`);
    const t = portableTypes(qr);
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
      }),
    );
    await qr.createIndex('outbox_events', new TableIndex({ name: 'ix_outbox_pending', columnNames: ['created_at'], where: 'published_at IS NULL' }));
    await qr.dropTable('outbox_batches');
  }
}
