import { BadRequestException } from '@nestjs/common';
import { DataSource, ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { DateUtils } from 'typeorm/util/DateUtils';
import { z } from 'zod';

export interface Page<T> {
  items: T[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(500).default(50).describe('items per page (1–500)'),
  cursor: z.string().max(500).optional().describe('nextCursor of the previous page'),
};

export function encodeCursor(values: unknown[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

export function decodeCursor(cursor: string): unknown[] {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2) return v;
  } catch {
    /* falls through */
  }
  throw new BadRequestException('cursor: not a cursor this API returned');
}

/** A Date as the database compares it: SQLite stores TypeORM's UTC datetime strings. */
export function dbDate(ds: DataSource, d: Date): Date | string {
  return ds.options.type === 'postgres' ? d : DateUtils.mixedDateToUtcDatetimeString(d);
}

/**
 * Keyset pagination: stable under concurrent inserts and deletes (no skipped or repeated rows),
 * unlike offsets. Orders by `column` then by the id, fetches one extra row to know if more follow.
 */
export async function keysetPage<E extends ObjectLiteral, T>(
  qb: SelectQueryBuilder<E>,
  opts: {
    ds: DataSource;
    alias: string;
    column: string;
    property: keyof E & string;
    isDate?: boolean;
    descending?: boolean;
    limit: number;
    cursor?: string;
    map: (e: E) => T;
  },
): Promise<Page<T>> {
  const { alias, column, descending } = opts;
  const op = descending ? '<' : '>';
  if (opts.cursor) {
    const [rawValue, id] = decodeCursor(opts.cursor);
    const value = opts.isDate ? dbDate(opts.ds, new Date(String(rawValue))) : rawValue;
    qb.andWhere(`(${alias}.${column} ${op} :kv OR (${alias}.${column} = :kv AND ${alias}.id ${op} :kid))`, { kv: value, kid: id });
  }
  const dir = descending ? 'DESC' : 'ASC';
  const rows = await qb.orderBy(`${alias}.${column}`, dir).addOrderBy(`${alias}.id`, dir).take(undefined).limit(opts.limit + 1).getMany();
  const more = rows.length > opts.limit;
  const page = more ? rows.slice(0, opts.limit) : rows;
  const last = page.at(-1);
  const lastValue: unknown = last?.[opts.property];
  return {
    items: page.map(opts.map),
    nextCursor: more && last ? encodeCursor([lastValue instanceof Date ? lastValue.toISOString() : lastValue, last.id]) : null,
  };
}

/** LIKE pattern for a case-insensitive "contains" search, with wildcards escaped. */
export function containsPattern(q: string): string {
  return `%${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
