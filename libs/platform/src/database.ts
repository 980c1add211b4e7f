import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TypeOrmModuleOptions } from '@nestjs/typeorm';
import { Client } from 'pg';
import type { DataSource, DataSourceOptions, EntityManager, EntityTarget, MixedList, ObjectLiteral, QueryRunner } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';

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

/**
 * Inserts rows `perStatement` at a time without reading generated values back into entities
 * (TypeORM's default, a RETURNING and a merge per row, is most of the cost of a bulk insert):
 * for the bulk writes of a sync, audit rows and outbox events, all of which carry their ids.
 */
export async function insertMany<E extends ObjectLiteral>(em: EntityManager, entity: EntityTarget<E>, rows: QueryDeepPartialEntity<E>[], perStatement = 500): Promise<void> {
  for (let i = 0; i < rows.length; i += perStatement) {
    await em.createQueryBuilder().insert().into(entity).values(rows.slice(i, i + perStatement)).updateEntity(false).execute();
  }
}
