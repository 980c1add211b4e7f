import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TypeOrmModuleOptions } from '@nestjs/typeorm';
import { Client } from 'pg';
import type { DataSource, DataSourceOptions, DeleteQueryBuilder, EntityManager, EntityTarget, InsertQueryBuilder, MixedList, ObjectLiteral, QueryRunner, UpdateQueryBuilder } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { ApplyValueTransformers } from 'typeorm/util/ApplyValueTransformers';

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
 * Writes that land together or not at all, in as few round trips as the engine allows. On
 * PostgreSQL they go as one statement, every write but the last as a data-modifying WITH clause:
 * one statement is atomic by itself, so it takes one round trip and one commit instead of BEGIN,
 * one per write and COMMIT — each a wait for the database to be scheduled, which under load is
 * what a login's tail latency is made of. Elsewhere they run in one transaction. The writes must
 * not depend on each other's effects nor touch the same row (one statement's parts share one
 * snapshot), and their SQL must carry values as parameters only (TypeORM's builders do), since
 * each write's `$n` placeholders are renumbered into the one statement's.
 */
export async function writeTogether(ds: DataSource, build: (em: EntityManager) => PendingWrite[]): Promise<void> {
  if (ds.options.type !== 'postgres') {
    await runInTransaction(ds, async (em) => {
      for (const write of build(em)) await write.execute();
    });
    return;
  }
  const params: unknown[] = [];
  const statements = build(ds.manager).map((write) => {
    const [sql, values] = write.getQueryAndParameters();
    const offset = params.length;
    params.push(...values);
    return offset ? sql.replace(/\$(\d+)/g, (_m, n: string) => `$${Number(n) + offset}`) : sql;
  });
  const last = statements.pop();
  if (last === undefined) return;
  await ds.query(statements.length ? `WITH ${statements.map((sql, i) => `w${i} AS (${sql})`).join(', ')} ${last}` : last, params);
}

/** An INSERT of a row or rows, built on `em` and not yet run (a `writeTogether` write); TypeORM reads no generated values back. */
export function insertWrite<E extends ObjectLiteral>(em: EntityManager, entity: EntityTarget<E>, rows: QueryDeepPartialEntity<E> | QueryDeepPartialEntity<E>[]): InsertQueryBuilder<E> {
  return em.createQueryBuilder().insert().into(entity).values(rows).updateEntity(false);
}

/**
 * Many rows into one table, in few statements, without TypeORM reading generated values back.
 * On PostgreSQL the rows go as one JSON parameter that the table's own row type reads
 * (`INSERT … SELECT … FROM json_populate_recordset(NULL::table, $1::json)`), 5,000 rows a
 * statement: one native `JSON.stringify` instead of a parameter, or an escaped array element, per
 * value — a fifth of the client CPU of per-column arrays (`unnest`) and half the time, which in
 * turn took a third of TypeORM's multi-row INSERT. Values are converted by the columns' own types
 * (timestamps travel as UTC ISO strings, so the session's time zone does not matter). Every row
 * must name the same columns (those the first row names; the others take their defaults). On
 * SQLite, TypeORM's multi-row INSERT, `perStatement` rows each.
 */
export async function insertMany<E extends ObjectLiteral>(em: EntityManager, entity: EntityTarget<E>, rows: QueryDeepPartialEntity<E>[], perStatement = 500): Promise<void> {
  if (rows.length === 0) return;
  const ds = em.connection;
  if (ds.options.type !== 'postgres') {
    for (let i = 0; i < rows.length; i += perStatement) {
      await insertWrite(em, entity, rows.slice(i, i + perStatement)).execute();
    }
    return;
  }
  const md = ds.getMetadata(entity);
  const columns = md.columns.filter((c) => c.getEntityValue(rows[0] as ObjectLiteral) !== undefined);
  const q = (name: string) => ds.driver.escape(name);
  const table = `${md.schema ? `${q(md.schema)}.` : ''}${q(md.tableName)}`;
  const names = columns.map((c) => q(c.databaseName)).join(', ');
  const sql = `INSERT INTO ${table} (${names}) SELECT ${names} FROM json_populate_recordset(NULL::${table}, $1::json)`;
  for (let i = 0; i < rows.length; i += 5000) {
    const records = (rows.slice(i, i + 5000) as ObjectLiteral[]).map((row) => {
      const record: Record<string, unknown> = {};
      for (const c of columns) {
        const value = c.getEntityValue(row);
        if (value === undefined) throw new Error(`insertMany: every row must name ${c.propertyName}, as the first does`);
        record[c.databaseName] = ds.driver.preparePersistentValue(c.transformer ? ApplyValueTransformers.transformTo(c.transformer, value) : value, c);
      }
      return record;
    });
    await em.query(sql, [JSON.stringify(records)]);
  }
}
