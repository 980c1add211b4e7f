import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { databaseOptions } from '@bridgekeeper/data';
import { createTestDatabase, TestDatabase } from '@bridgekeeper/testing';
import { DIRECTORY_ENTITIES, DIRECTORY_MIGRATIONS } from '../src/database';
import { outboxBatch, OutboxBatchEntity } from '../src/outbox/outbox-batch.entity';

/** An outbox of the earlier format (one row per event) moves to batches with nothing lost. */
describe.each(['postgres', 'sqlite'] as const)('the outbox-batches migration on %s', (engine) => {
  let pg: TestDatabase | undefined;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'bk-outbox-mig-'));
    pg = engine === 'postgres' ? await createTestDatabase() : undefined;
  });

  afterAll(async () => {
    await pg?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const open = async (migrations: typeof DIRECTORY_MIGRATIONS) =>
    new DataSource({
      ...(await databaseOptions({ service: 'directory', url: pg?.url, dataDir, entities: DIRECTORY_ENTITIES, migrations })),
      migrationsRun: false,
    } as never).initialize();

  it('moves the events still to publish, each as a batch of its own, and leaves the published ones behind; back only once all are published', async () => {
    const before = await open(DIRECTORY_MIGRATIONS.filter((m) => m.name !== 'OutboxBatches1764800000000'));
    await before.runMigrations();
    const event = (id: string) =>
      JSON.stringify({
        id,
        v: 1,
        occurredAt: '2026-11-29T12:00:00.000Z',
        source: 'directory',
        data: { targetType: 'user', targetId: 'u-1', actor: 'cli:test', before: null, after: { username: 'o"brien' } },
      });
    const at = '2026-11-29 12:00:00.000';
    await before.query(
      `INSERT INTO outbox_events (id, subject, payload, created_at, published_at) VALUES ($1, $2, $3, $4, NULL), ($5, $6, $7, $8, $9)`.replace(
        /\$\d+/g,
        engine === 'sqlite' ? '?' : '$&',
      ),
      ['ev-pending', 'directory.user.created', event('ev-pending'), at, 'ev-published', 'directory.user.updated', event('ev-published'), at, at],
    );
    await before.destroy();

    const after = await open(DIRECTORY_MIGRATIONS);
    expect(await after.runMigrations()).toHaveLength(1);
    const rows = await after.getRepository(OutboxBatchEntity).find();
    expect(rows.map((r) => [r.id, r.publishedAt])).toEqual([['ev-pending', null]]);
    expect(outboxBatch(rows[0]).messages).toEqual([{ subject: 'directory.user.created', data: event('ev-pending'), msgId: 'ev-pending' }]);
    // Going back cannot split batches: it waits until none is pending.
    await expect(after.undoLastMigration()).rejects.toThrow('1 outbox batches are not published yet');
    await after.getRepository(OutboxBatchEntity).update({ id: 'ev-pending' }, { publishedAt: new Date() });
    await after.undoLastMigration();
    expect(await after.query(`SELECT COUNT(*) AS n FROM outbox_events`)).toEqual([{ n: engine === 'postgres' ? '0' : 0 }]);
    await after.destroy();
  });
});
