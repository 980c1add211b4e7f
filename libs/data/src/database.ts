import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TypeOrmModuleOptions } from '@nestjs/typeorm';
import { Client } from 'pg';
import { QueryFailedError } from 'typeorm';
import type { DataSource, DataSourceOptions, DeleteQueryBuilder, EntityManager, EntityTarget, InsertQueryBuilder, MixedList, ObjectLiteral, QueryDeepPartialEntity, QueryRunner, UpdateQueryBuilder } from 'typeorm';

export interface ServiceDatabase {
  /** Service name: the PostgreSQL schema and the SQLite file name. */
  service: string;
  url?: string;
  dataDir: string;
  entities: MixedList<Function>;
  migrations: MixedList<Function>;
}

/**
 * PostgreSQL when a URL is given (one schema per service), otherwise an embedded SQLite
 * file: the zero-setup default. Both run the same migrations at start.
 */
export async function databaseOptions(db: ServiceDatabase): Promise<TypeOrmModuleOptions & DataSourceOptions> {
  const common = {
    entities: db.entities,
    migrations: db.migrations,
    migrationsRun: true,
    migrationsTransactionMode: 'each' as const,
    synchronize: false,
    logging: false,
    retryAttempts: 5,
    retryDelay: 2000,
  };
  if (db.url) {
    await ensureSchema(db.url, db.service);
    // search_path too, so plain SQL (reports, tests) finds the service's tables.
    return { ...common, type: 'postgres', url: db.url, schema: db.service, extra: { max: 20, options: `-c search_path=${db.service}` } };
  }
  mkdirSync(resolve(db.dataDir), { recursive: true });
  return {
    ...common,
    type: 'better-sqlite3',
    database: join(resolve(db.dataDir), `${db.service}.sqlite`),
    enableWAL: true,
    prepareDatabase: (conn: { pragma: (s: string) => void }) => {
      conn.pragma('busy_timeout = 5000');
      conn.pragma('foreign_keys = ON');
    },
  };
}

async function ensureSchema(url: string, schema: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema.replace(/"/g, '')}"`);
  } finally {
    await client.end();
  }
}

/** Column types that mean the same on PostgreSQL and SQLite, for migrations. */
export function portableTypes(qr: QueryRunner) {
  const pg = qr.connection.driver.options.type === 'postgres';
  return {
    timestamp: pg ? 'timestamptz' : 'datetime',
    text: 'text',
    json: 'text',
    bool: 'boolean',
    id: 'varchar',
    /** An auto-incremented key (SQLite needs INTEGER for it). */
    serial: pg ? 'bigint' : 'integer',
  } as const;
}

const sqliteQueues = new WeakMap<DataSource, Promise<unknown>>();

/**
 * A transaction on either engine. SQLite has one connection, on which TypeORM cannot run two
 * transactions at once, so there they queue; PostgreSQL runs them side by side.
 */
export function runInTransaction<T>(ds: DataSource, work: (em: EntityManager) => Promise<T>): Promise<T> {
  if (ds.options.type === 'postgres') return ds.transaction(work);
  const previous = sqliteQueues.get(ds) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(() => ds.transaction(work));
  sqliteQueues.set(ds, next.catch(() => undefined));
  return next;
}

/** A write for `writeTogether`: an INSERT, UPDATE or DELETE built on the manager it is given, not yet run. */
export type PendingWrite = InsertQueryBuilder<ObjectLiteral> | UpdateQueryBuilder<ObjectLiteral> | DeleteQueryBuilder<ObjectLiteral>;

/**
 * Writes that land together or not at all: `build` makes them on the transaction's manager and
 * they run one after another in that transaction, so a later write may depend on an earlier one.
 * A function rather than the caller's own `runInTransaction` so that the writes of a login (its
 * trace, its session, its state) are built in one place and handed over. Until 2026-12 it sent
 * them to PostgreSQL as one statement of data-modifying WITH clauses, renumbering each write's
 * `$n` placeholders: docs/adr/0007-kept-optimisations.md says why that went.
 */
export async function writeTogether(ds: DataSource, build: (em: EntityManager) => PendingWrite[]): Promise<void> {
  await runInTransaction(ds, async (em) => {
    for (const write of build(em)) await write.execute();
  });
}

/** An INSERT of a row or rows, built on `em` and not yet run (a `writeTogether` write); TypeORM reads no generated values back. */
export function insertWrite<E extends ObjectLiteral>(em: EntityManager, entity: EntityTarget<E>, rows: QueryDeepPartialEntity<E> | QueryDeepPartialEntity<E>[]): InsertQueryBuilder<E> {
  return em.createQueryBuilder().insert().into(entity).values(rows).updateEntity(false);
}

/**
 * The most parameters one statement may carry: PostgreSQL's wire protocol counts them in 16 bits;
 * SQLite refuses more than SQLITE_MAX_VARIABLE_NUMBER (32,766 by default since SQLite 3.32, as
 * better-sqlite3 builds it).
 */
const PARAMETER_LIMIT = { postgres: 65_535, sqlite: 32_766 } as const;

/**
 * Many rows into one table with TypeORM's multi-row INSERT, without reading generated values
 * back: `perStatement` rows a statement (fewer when that many would pass the engine's parameter
 * limit). Statements of a few hundred rows cost the least client CPU per row: TypeORM's work per
 * row grows with the statement's size. A row may leave a column out: it takes the column's
 * default. Values are converted as for any TypeORM INSERT (JSON, dates, transformers); a failure
 * is TypeORM's `QueryFailedError`. Run it in a transaction when the rows must land together.
 */
export async function insertMany<E extends ObjectLiteral>(em: EntityManager, entity: EntityTarget<E>, rows: QueryDeepPartialEntity<E>[], perStatement = 500): Promise<void> {
  if (rows.length === 0) return;
  if (em.connection.options.type === 'postgres' && rows.length > 1) return insertAsJson(em, entity, rows);
  const limit = em.connection.options.type === 'postgres' ? PARAMETER_LIMIT.postgres : PARAMETER_LIMIT.sqlite;
  // At most one parameter per column and row: a value left out is written as DEFAULT, not as a parameter.
  const size = Math.max(1, Math.min(perStatement, Math.floor(limit / em.connection.getMetadata(entity).columns.length)));
  for (let i = 0; i < rows.length; i += size) {
    await insertWrite(em, entity, rows.slice(i, i + size)).execute();
  }
}

/**
 * PostgreSQL, many rows: as one JSON parameter that the table's own row type reads
 * (`INSERT … SELECT … FROM json_populate_recordset(NULL::table, $1::json)`), 5,000 rows a
 * statement: one native `JSON.stringify` instead of TypeORM building a parameter per value — about
 * a third of the client CPU of TypeORM's multi-row INSERT at 500 rows a statement (User Sync at
 * 100k writes 600,000 rows; ADR 0007). Public API only: the entity's column metadata, the
 * driver's own conversion of each value (`Driver.preparePersistentValue`), the driver's quoting.
 * Rows that name different columns go as separate statements (a column a row leaves out takes its
 * default, as in TypeORM's INSERT). Dates go as the local time with its offset, as node-postgres
 * sends a Date parameter, so `timestamp` columns hold what TypeORM's INSERT would write in any
 * process time zone.
 */
async function insertAsJson<E extends ObjectLiteral>(em: EntityManager, entity: EntityTarget<E>, rows: QueryDeepPartialEntity<E>[]): Promise<void> {
  const ds = em.connection;
  const md = ds.getMetadata(entity);
  const q = (name: string) => ds.driver.escape(name);
  const table = `${md.schema ? `${q(md.schema)}.` : ''}${q(md.tableName)}`;
  // Rows by the columns they name, in the order they came.
  const byShape = new Map<string, { columns: typeof md.columns; rows: ObjectLiteral[] }>();
  for (const row of rows as ObjectLiteral[]) {
    const columns = md.columns.filter((c) => c.getEntityValue(row) !== undefined);
    const shape = columns.map((c) => c.databaseName).join('\u0000');
    const group = byShape.get(shape) ?? { columns, rows: [] };
    group.rows.push(row);
    byShape.set(shape, group);
  }
  for (const { columns, rows: group } of byShape.values()) {
    const names = columns.map((c) => q(c.databaseName)).join(', ');
    const sql = `INSERT INTO ${table} (${names}) SELECT ${names} FROM json_populate_recordset(NULL::${table}, $1::json)`;
    for (let i = 0; i < group.length; i += 5000) {
      const records = group.slice(i, i + 5000).map((row) => {
        const record: Record<string, unknown> = {};
        for (const c of columns) {
          // The driver converts (and applies a column's transformer); a json/jsonb value goes as
          // itself inside the one JSON document, where the driver would send it as a string.
          const prepared = ds.driver.preparePersistentValue(c.getEntityValue(row), c);
          const value = (c.type === 'json' || c.type === 'jsonb') && typeof prepared === 'string' ? JSON.parse(prepared) : prepared;
          record[c.databaseName] = value instanceof Date ? localTimestamp(value) : value;
        }
        return record;
      });
      await em.query(sql, [JSON.stringify(records)]);
    }
  }
}

/** A Date as node-postgres sends one: the process's local time with its offset (`2026-12-05T01:00:00.000-08:00`). */
function localTimestamp(d: Date): string {
  const pad = (n: number, width = 2) => String(Math.abs(n)).padStart(width, '0');
  const offset = -d.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  return `${d.getFullYear() < 0 ? '-' : ''}${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}${sign}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
}

/**
 * Whether a write failed on a unique index or primary key (PostgreSQL: "duplicate key value
 * violates unique constraint"; SQLite: "UNIQUE constraint failed"), as TypeORM surfaces it.
 */
export function isUniqueViolation(err: unknown): boolean {
  return err instanceof QueryFailedError && /unique|duplicate|primary/i.test(err.message);
}

/** Runs `n` items through `fn` in slices, so one statement never carries too many parameters. */
export async function inChunks<T>(items: readonly T[], size: number, fn: (chunk: T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await fn(items.slice(i, i + size));
}
