import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Column, DataSource, Entity, Like, MigrationInterface, PrimaryColumn, QueryRunner, Table } from 'typeorm';
import { createTestDatabase, TestDatabase } from '@bridgekeeper/testing';
import { databaseOptions, insertMany, portableTypes, runInTransaction } from './database';

@Entity({ name: 'bulk_rows' })
class BulkRow {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ name: 'created_at' })
  createdAt: Date;

  @Column({ type: 'simple-json', nullable: true })
  payload: Record<string, unknown> | null;

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

  it('writes every row as given, across statements, with JSON, booleans, NULLs, transformers and defaults', async () => {
    const at = new Date('2026-11-29T01:02:03.456Z');
    const rows = Array.from({ length: 12_001 }, (_, i) => ({
      id: `row-${String(i).padStart(5, '0')}`,
      createdAt: new Date(at.getTime() + i),
      payload: i % 3 ? { n: i, quote: `it's "${i}"`, nested: { ok: true } } : null,
      active: i % 2 === 0,
      code: `c${i}`,
    }));
    await bulk(rows);
    const stored = await ds.getRepository(BulkRow).find({ order: { id: 'ASC' } });
    expect(stored).toHaveLength(rows.length);
    for (const i of [0, 1, 2, 4999, 5000, 5001, 12_000]) {
      expect(stored[i]).toEqual({ ...rows[i], code: `C${i}`, note: 'fallback' });
    }
  });

  it('keeps every character of a string: quotes, backslashes, braces, commas, newlines, non-ASCII', async () => {
    const odd = [`q"u'o\\te`, '{a,b}', 'line\nbreak\ttab', 'naïve ✓ 日本 🚀', 'NULL', ''];
    const rows = odd.map((text, i) => ({ id: `odd-${i}`, createdAt: new Date(), payload: { text }, active: true, code: text.slice(0, 20) }));
    await bulk(rows);
    const stored = await ds.getRepository(BulkRow).find({ where: { id: Like('odd-%') }, order: { id: 'ASC' } });
    expect(stored.map((r) => [r.payload, r.code])).toEqual(rows.map((r) => [r.payload, r.code.toUpperCase()]));
  });

  it('refuses rows that leave out a column the first row names, and writes none of them', async () => {
    const rows = [
      { id: 'partial-1', createdAt: new Date(), payload: null, active: true, code: 'a' },
      { id: 'partial-2', createdAt: new Date(), payload: null, code: 'b' },
    ];
    const attempt = bulk(rows);
    if (engine === 'postgres') await expect(attempt).rejects.toThrow(/every row must name active/);
    else await expect(attempt).rejects.toThrow();
    expect(await ds.getRepository(BulkRow).countBy({ id: 'partial-1' })).toBe(0);
  });
});
