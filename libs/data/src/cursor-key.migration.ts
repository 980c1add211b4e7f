import { randomBytes } from 'node:crypto';
import { DataSource, QueryRunner, Table } from 'typeorm';

/**
 * The key that signs a service's pagination cursors, in the service's own database: made once by
 * the migration, so every instance of the service shares it and a cursor outlives a restart.
 * (The master keys do not fit: the directory has none, and they are per-deployment secrets for
 * data at rest, not for this.) Losing it costs nothing but the cursors in flight: delete the row
 * and insert a new random one to change it, then restart the service's instances.
 */
export async function createCursorKeyTable(qr: QueryRunner): Promise<void> {
  await qr.createTable(
    new Table({
      name: 'cursor_key',
      columns: [
        { name: 'id', type: 'integer', isPrimary: true },
        { name: 'secret', type: 'varchar', length: '64' },
      ],
    }),
  );
  await qr.query(`INSERT INTO cursor_key (id, secret) VALUES (1, '${randomBytes(32).toString('base64url')}')`);
}

export async function dropCursorKeyTable(qr: QueryRunner): Promise<void> {
  await qr.dropTable('cursor_key');
}

/** The service's cursor key (the row the migration made). */
export async function readCursorKey(ds: DataSource): Promise<Buffer> {
  const rows: { secret: string }[] = await ds.query('SELECT secret FROM cursor_key WHERE id = 1');
  if (rows.length !== 1) throw new Error('cursor_key has no key: run the migrations');
  return Buffer.from(rows[0].secret, 'base64url');
}
