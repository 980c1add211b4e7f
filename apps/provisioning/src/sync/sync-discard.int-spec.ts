import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { AuditEntryEntity, databaseOptions, runInTransaction } from '@bridgekeeper/data';
import { createTestDatabase, TestDatabase } from '@bridgekeeper/testing';
import { PROVISIONING_ENTITIES, PROVISIONING_MIGRATIONS } from '../database';
import { SyncRunEntity } from './sync-run.entity';
import { SyncService } from './sync.service';

/**
 * A discard and an approval of the same held run, interleaved: the approval commits after the
 * discard read the run as held. The discard must not overwrite the approval (it is refused, 409,
 * and writes nothing). On PostgreSQL the interleaving is real: the approval's update holds the
 * row while the discard reads and waits. SQLite runs one transaction at a time, so there the
 * discard is given the run as it read it just before the approval committed.
 */
describe.each(['postgres', 'sqlite'] as const)('discarding a held run on %s', (engine) => {
  let pg: TestDatabase | undefined;
  let dataDir: string;
  let ds: DataSource;
  let sync: SyncService;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'bk-discard-'));
    pg = engine === 'postgres' ? await createTestDatabase() : undefined;
    ds = new DataSource(
      await databaseOptions({ service: 'provisioning', url: pg?.url, dataDir, entities: PROVISIONING_ENTITIES, migrations: PROVISIONING_MIGRATIONS }),
    );
    await ds.initialize();
    // discard() uses only the database.
    const unused = null as never;
    sync = new SyncService(ds, unused, unused, unused, unused, new Registry());
  });

  afterAll(async () => {
    await ds?.destroy();
    await pg?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const heldRun = async () => {
    const run = ds.getRepository(SyncRunEntity).create({
      id: crypto.randomUUID(),
      connectorId: 'kc',
      status: 'held',
      trigger: 'api',
      requestedBy: 't',
      mode: 'full',
      changesUntil: null,
      dryRun: false,
      progress: {},
      counts: null,
      plan: null,
      planDigest: 'a'.repeat(64),
      reason: 'held for approval',
      directoryWrites: 0,
      startedAt: new Date(),
      finishedAt: null,
    });
    await ds.getRepository(SyncRunEntity).insert(run);
    return run;
  };
  const audit = (id: string) => ds.getRepository(AuditEntryEntity).findBy({ targetId: id });

  it('discards a held run once, audited', async () => {
    const run = await heldRun();
    expect(await sync.discard(run.id, 'admin')).toMatchObject({ status: 'discarded' });
    expect((await audit(run.id)).map((a) => a.action)).toEqual(['sync-run.discarded']);
    await expect(sync.discard(run.id, 'admin')).rejects.toMatchObject({ status: 409 });
  });

  it('refuses, and writes nothing, when an approval took the run after the discard read it', async () => {
    const run = await heldRun();
    const approve = () => ds.getRepository(SyncRunEntity).update({ id: run.id, status: 'held' }, { status: 'approved' });
    if (engine === 'postgres') {
      const approval = ds.createQueryRunner();
      await approval.connect();
      await approval.startTransaction();
      await approval.manager.update(SyncRunEntity, { id: run.id, status: 'held' }, { status: 'approved' });
      const discard = sync.discard(run.id, 'admin').then(
        () => 'discarded',
        (err: { status?: number }) => err.status,
      );
      // The discard reads the run as held (the approval is not committed) and waits for its row.
      await waitUntilBlocked(ds);
      await approval.commitTransaction();
      await approval.release();
      expect(await discard).toBe(409);
    } else {
      const read = await sync.get(run.id);
      await runInTransaction(ds, approve);
      jest.spyOn(sync, 'get').mockResolvedValueOnce(read);
      await expect(sync.discard(run.id, 'admin')).rejects.toMatchObject({ status: 409 });
    }
    expect((await ds.getRepository(SyncRunEntity).findOneByOrFail({ id: run.id })).status).toBe('approved');
    expect(await audit(run.id)).toEqual([]);
  });
});

/** Until a statement of this database waits for a lock (the discard's update, behind the approval). */
async function waitUntilBlocked(ds: DataSource): Promise<void> {
  for (;;) {
    const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
    if (n > 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}
