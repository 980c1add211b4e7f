import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { nameKeys } from '@bridgekeeper/names';
import { databaseOptions } from '@bridgekeeper/data';
import { createTestDatabase, TestDatabase } from '@bridgekeeper/testing';
import { DIRECTORY_ENTITIES, DIRECTORY_MIGRATIONS } from '../src/database';

/**
 * Names stored before the name rules get their lookalike keys in creation order; one that already
 * looked like an earlier one keeps its row, without a key (nothing changed or dropped), and the
 * unique indexes hold for every name written after.
 */
describe.each(['postgres', 'sqlite'] as const)('the name-skeletons migration on %s', (engine) => {
  let pg: TestDatabase | undefined;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'bk-names-mig-'));
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
  const sql = (query: string) => query.replace(/\$\d+/g, engine === 'sqlite' ? '?' : '$&');

  it('keys existing names in creation order, leaves a later lookalike without a key, and refuses a new lookalike at the index', async () => {
    const before = await open(DIRECTORY_MIGRATIONS.filter((m) => m.name !== 'NameSkeletons1765000000000'));
    await before.runMigrations();
    const user = (id: string, username: string, at: string) => [id, username, username.toLowerCase(), 'local', at, at];
    const users = [
      user('00000000-0000-7000-8000-000000000001', 'alice', '2026-01-01 00:00:00.000'),
      user('00000000-0000-7000-8000-000000000002', 'al\u200Bice', '2026-01-02 00:00:00.000'),
      user('00000000-0000-7000-8000-000000000003', 'bob', '2026-01-03 00:00:00.000'),
      user('00000000-0000-7000-8000-000000000005', 'BILL', '2026-01-03 00:00:01.000'),
      user('00000000-0000-7000-8000-000000000006', 'biII', '2026-01-03 00:00:02.000'), // shows as "bill", which is BILL
    ];
    for (const row of users)
      await before.query(sql(`INSERT INTO users (id, username, username_lower, source, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)`), row);
    const group = (id: string, name: string, at: string) => [id, name, name.toLowerCase(), 'local', at];
    for (const row of [
      group('00000000-0000-4000-8000-000000000001', 'admins', '2026-01-01 00:00:00.000'),
      group('00000000-0000-4000-8000-000000000002', 'adrnins', '2026-01-02 00:00:00.000'),
    ]) {
      await before.query(sql(`INSERT INTO groups (id, name, name_lower, source, created_at) VALUES ($1, $2, $3, $4, $5)`), row);
    }
    await before.destroy();

    const after = await open(DIRECTORY_MIGRATIONS);
    expect(await after.runMigrations()).toHaveLength(1);
    const keyed = (name: string) => ({ folded: nameKeys(name).folded, shown: nameKeys(name).shown });
    const none = { folded: null, shown: null };
    const keys = await after.query(`SELECT username, username_skeleton AS folded, username_skeleton_shown AS shown FROM users ORDER BY created_at`);
    expect(keys).toEqual([
      { username: 'alice', ...keyed('alice') },
      { username: 'al\u200Bice', ...none },
      { username: 'bob', ...keyed('bob') },
      { username: 'BILL', ...keyed('BILL') },
      { username: 'biII', ...none },
    ]);
    expect(nameKeys('BILL').folded).not.toBe(nameKeys('BILL').shown);
    expect(await after.query(`SELECT name, name_skeleton AS folded, name_skeleton_shown AS shown FROM groups ORDER BY created_at`)).toEqual([
      { name: 'admins', ...keyed('admins') },
      { name: 'adrnins', ...none },
    ]);
    // Two writers at once cannot both take a name that looks like another: the index refuses the second.
    await expect(
      after.query(
        sql(`INSERT INTO users (id, username, username_lower, username_skeleton, source, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`),
        ['00000000-0000-7000-8000-000000000004', 'B0B', 'b0b', nameKeys('B0B').folded, 'local', '2026-01-04 00:00:00.000', '2026-01-04 00:00:00.000'],
      ),
    ).rejects.toThrow(/unique|duplicate/i);
    await expect(
      after.query(
        sql(`INSERT INTO users (id, username, username_lower, username_skeleton_shown, source, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`),
        ['00000000-0000-7000-8000-000000000007', 'B0B', 'b0b', nameKeys('B0B').shown, 'local', '2026-01-04 00:00:00.000', '2026-01-04 00:00:00.000'],
      ),
    ).rejects.toThrow(/unique|duplicate/i);
    await after.undoLastMigration();
    await after.destroy();
  });
});
