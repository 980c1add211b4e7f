import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Column, DataSource, Entity, Like, MigrationInterface, PrimaryColumn, QueryFailedError, QueryRunner, Table } from 'typeorm';
import { createTestDatabase, TestDatabase } from '@bridgekeeper/testing';
import { databaseOptions, insertMany, portableTypes, runInTransaction, writeTogether } from './database';

@Entity({ name: 'bulk_rows' })
class BulkRow {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ name: 'created_at' })
  createdAt: Date;

  @Column({ type: 'simple-json', nullable: true })
  payload: Record<string, unknown> | unknown[] | null;

  @Column({ name: 'seen_at', type: Date, nullable: true })
  seenAt?: Date | null;

  @Column({ type: 'boolean' })
  active: boolean;

  @Column({ type: 'varchar', length: 20, transformer: { to: (v: string) => v.toUpperCase(), from: (v: string) => v } })
  code: string;

  @Column({ type: 'varchar', length: 20, default: 'fallback' })
  note: string;
}

class CreateBulkRows1700000000000 implements MigrationInterface {
  name = 'CreateBulkRows1700000000000';
  async up(qr: QueryRunner): Promise<void> {
    const t = portableTypes(qr);
    await qr.createTable(
      new Table({
        name: 'bulk_rows',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'created_at', type: t.timestamp },
          { name: 'payload', type: t.json, isNullable: true },
          { name: 'seen_at', type: t.timestamp, isNullable: true },
          { name: 'active', type: t.bool },
          { name: 'code', type: 'varchar', length: '20' },
          { name: 'note', type: 'varchar', length: '20', default: "'fallback'" },
        ],
      }),
    );
  }
  async down(qr: QueryRunner): Promise<void> {
    await qr.dropTable('bulk_rows');
  }
}

describe.each(['postgres', 'sqlite'] as const)('insertMany on %s', (engine) => {
  let pg: TestDatabase | undefined;
  let dataDir: string;
  let ds: DataSource;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'bk-bulk-'));
    pg = engine === 'postgres' ? await createTestDatabase() : undefined;
    ds = new DataSource(await databaseOptions({ service: 'bulk', url: pg?.url, dataDir, entities: [BulkRow], migrations: [CreateBulkRows1700000000000] }));
    await ds.initialize();
  });

  // On a session clock far from UTC: timestamps must still land as the instants they are.
  const bulk = (rows: object[]) =>
    runInTransaction(ds, async (em) => {
      if (engine === 'postgres') await em.query(`SET LOCAL TIME ZONE 'America/Los_Angeles'`);
      await insertMany(em, BulkRow, rows as never);
    });

  afterAll(async () => {
    await ds?.destroy();
    await pg?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('writes every row as given, across statements, with JSON objects and arrays, dates, booleans, NULLs, transformers and defaults', async () => {
    // 12,001 rows of seven columns: many statements, and more parameters than one statement may carry on either engine.
    const at = new Date('2026-11-29T01:02:03.456Z');
    const rows = Array.from({ length: 12_001 }, (_, i) => ({
      id: `row-${String(i).padStart(5, '0')}`,
      createdAt: new Date(at.getTime() + i),
      payload: i % 3 === 0 ? null : i % 3 === 1 ? { n: i, quote: `it's "${i}"`, nested: { ok: true, list: [1, 'two', null] } } : [`g${i}`, { deep: [i] }, null, ''],
      seenAt: i % 2 ? new Date(at.getTime() - i * 1000) : null,
      active: i % 2 === 0,
      code: `c${i}`,
    }));
    expect(rows.length * 7).toBeGreaterThan(65_535);
    await bulk(rows);
    const stored = await ds.getRepository(BulkRow).find({ order: { id: 'ASC' } });
    expect(stored).toHaveLength(rows.length);
    for (const i of [0, 1, 2, 499, 500, 501, 4095, 4096, 9362, 9363, 12_000]) {
      expect(stored[i]).toEqual({ ...rows[i], code: `C${i}`, note: 'fallback' });
    }
  });

  it('keeps each statement under the parameter limit when asked for more rows a statement than fit', async () => {
    const rows = Array.from({ length: 10_000 }, (_, i) => ({ id: `many-${i}`, createdAt: new Date(), payload: null, active: true, code: 'm' }));
    await runInTransaction(ds, (em) => insertMany(em, BulkRow, rows, 10_000));
    expect(await ds.getRepository(BulkRow).countBy({ id: Like('many-%') })).toBe(10_000);
  });

  it("writes each row's own columns: one that leaves a column out takes the column's default", async () => {
    const at = new Date('2026-11-30T12:00:00.000Z');
    await bulk([
      { id: 'own-1', createdAt: at, active: true, code: 'a' },
      { id: 'own-2', createdAt: at, payload: { kept: 1 }, seenAt: at, active: false, code: 'b', note: 'given' },
    ]);
    const stored = await ds.getRepository(BulkRow).find({ where: { id: Like('own-%') }, order: { id: 'ASC' } });
    expect(stored).toEqual([
      { id: 'own-1', createdAt: at, payload: null, seenAt: null, active: true, code: 'A', note: 'fallback' },
      { id: 'own-2', createdAt: at, payload: { kept: 1 }, seenAt: at, active: false, code: 'B', note: 'given' },
    ]);
  });

  it("refuses a duplicate key with TypeORM's QueryFailedError, and in a transaction writes none of the rows", async () => {
    const rows = Array.from({ length: 9_000 }, (_, i) => ({ id: `dup-${i}`, createdAt: new Date(), payload: null, active: true, code: 'd' }));
    rows.push({ ...rows[3] });
    const attempt = bulk(rows);
    await expect(attempt).rejects.toBeInstanceOf(QueryFailedError);
    await expect(attempt).rejects.toThrow(/unique|duplicate/i);
    expect(await ds.getRepository(BulkRow).countBy({ id: Like('dup-%') })).toBe(0);
  });

  it('keeps every character of a string: quotes, backslashes, braces, commas, newlines, non-ASCII', async () => {
    const odd = [`q"u'o\\te`, '{a,b}', 'line\nbreak\ttab', 'naïve ✓ 日本 🚀', 'NULL', ''];
    const rows = odd.map((text, i) => ({ id: `odd-${i}`, createdAt: new Date(), payload: { text }, active: true, code: text.slice(0, 20) }));
    await bulk(rows);
    const stored = await ds.getRepository(BulkRow).find({ where: { id: Like('odd-%') }, order: { id: 'ASC' } });
    expect(stored.map((r) => [r.payload, r.code])).toEqual(rows.map((r) => [r.payload, r.code.toUpperCase()]));
  });

  it('refuses a row that leaves out a column with no default, and writes none of them', async () => {
    const rows = [
      { id: 'partial-1', createdAt: new Date(), payload: null, active: true, code: 'a' },
      { id: 'partial-2', createdAt: new Date(), payload: null, code: 'b' },
    ];
    await expect(bulk(rows)).rejects.toBeInstanceOf(QueryFailedError);
    expect(await ds.getRepository(BulkRow).countBy({ id: 'partial-1' })).toBe(0);
  });
});

describe.each(['postgres', 'sqlite'] as const)('writeTogether on %s', (engine) => {
  let pg: TestDatabase | undefined;
  let dataDir: string;
  let ds: DataSource;
  const rows = () => ds.getRepository(BulkRow);
  const row = (id: string, code: string) => ({ id, createdAt: new Date('2026-11-29T10:00:00.000Z'), payload: { note: '$1 and $2 stay text' }, active: true, code });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'bk-together-'));
    pg = engine === 'postgres' ? await createTestDatabase() : undefined;
    ds = new DataSource(await databaseOptions({ service: 'together', url: pg?.url, dataDir, entities: [BulkRow], migrations: [CreateBulkRows1700000000000] }));
    await ds.initialize();
  });

  beforeEach(async () => {
    await rows().clear();
    await rows().insert([row('kept', 'k'), row('changed', 'before'), row('dropped', 'd')]);
  });

  afterAll(async () => {
    await ds?.destroy();
    await pg?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('lands an INSERT of several rows, an UPDATE and a DELETE together, each with its own parameters', async () => {
    await writeTogether(ds, (em) => [
      em.createQueryBuilder().update(BulkRow).set({ code: 'after', payload: { n: 2 } }).where({ id: 'changed' }),
      em.createQueryBuilder().delete().from(BulkRow).where({ id: 'dropped' }),
      em.createQueryBuilder().insert().into(BulkRow).values([row('new-1', 'n1'), row('new-2', 'n2')]).updateEntity(false),
    ]);
    const stored = await rows().find({ order: { id: 'ASC' } });
    expect(stored.map((r) => [r.id, r.code, r.payload])).toEqual([
      ['changed', 'AFTER', { n: 2 }],
      ['kept', 'K', { note: '$1 and $2 stay text' }],
      ['new-1', 'N1', { note: '$1 and $2 stay text' }],
      ['new-2', 'N2', { note: '$1 and $2 stay text' }],
    ]);
  });

  it('lands none of the writes when one fails', async () => {
    const attempt = writeTogether(ds, (em) => [
      em.createQueryBuilder().update(BulkRow).set({ code: 'after' }).where({ id: 'changed' }),
      em.createQueryBuilder().insert().into(BulkRow).values([row('new-1', 'n1'), row('kept', 'again')]).updateEntity(false),
    ]);
    await expect(attempt).rejects.toBeInstanceOf(QueryFailedError);
    await expect(attempt).rejects.toThrow(/unique|duplicate/i);
    const stored = await rows().find({ order: { id: 'ASC' } });
    expect(stored.map((r) => [r.id, r.code])).toEqual([
      ['changed', 'BEFORE'],
      ['dropped', 'D'],
      ['kept', 'K'],
    ]);
  });

  it('runs the writes in order: a later one sees what an earlier one wrote', async () => {
    await writeTogether(ds, (em) => [
      em.createQueryBuilder().insert().into(BulkRow).values(row('fresh', 'first')).updateEntity(false),
      em.createQueryBuilder().update(BulkRow).set({ code: 'second' }).where({ id: 'fresh' }),
      em.createQueryBuilder().delete().from(BulkRow).where({ id: 'dropped' }),
      em.createQueryBuilder().insert().into(BulkRow).values(row('dropped', 'again')).updateEntity(false),
    ]);
    const stored = await rows().find({ order: { id: 'ASC' } });
    expect(stored.map((r) => [r.id, r.code])).toEqual([
      ['changed', 'BEFORE'],
      ['dropped', 'AGAIN'],
      ['fresh', 'SECOND'],
      ['kept', 'K'],
    ]);
  });

  it('writes nothing for no writes', async () => {
    await writeTogether(ds, () => []);
    expect(await rows().count()).toBe(3);
  });
});
