import { BadRequestException } from '@nestjs/common';
import { DataSource, ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { DateUtils } from 'typeorm/util/DateUtils';
import { z } from 'zod';
import { CURSOR_MAX_LENGTH, CursorCodec, CursorScope, CutString } from './cursor';
import { readCursorKey } from './cursor-key.migration';

export interface Page<T> {
  items: T[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(500).default(50).describe('items per page (1–500)'),
  cursor: z
    .string()
    .max(CURSOR_MAX_LENGTH)
    .optional()
    .describe('nextCursor of the previous page of this listing, with the same sort: opaque; any other cursor is a 400'),
};

/** The one answer to a cursor that is not one this listing, with this sort, returned. */
export const NOT_A_CURSOR = 'cursor: not a cursor of this listing';

/** The key that signs a service's cursors: one row its migration made, the same for every instance and restart. */
const cursorKeys = new WeakMap<DataSource, Promise<CursorCodec>>();
function codecOf(ds: DataSource): Promise<CursorCodec> {
  let codec = cursorKeys.get(ds);
  if (!codec) {
    codec = readCursorKey(ds).then((key) => new CursorCodec(key));
    codec.catch(() => cursorKeys.delete(ds));
    cursorKeys.set(ds, codec);
  }
  return codec;
}

/** A Date as the database compares it: SQLite stores TypeORM's UTC datetime strings. */
export function dbDate(ds: DataSource, d: Date): Date | string {
  return ds.options.type === 'postgres' ? d : DateUtils.mixedDateToUtcDatetimeString(d);
}

/** A listing's order: by `column` (of `property`), then by the id (a UUID), one direction. */
export interface KeysetOrder<E> {
  /** Names the listing for its cursors, e.g. `directory.users`: a cursor of another listing is refused. */
  listing: string;
  alias: string;
  column: string;
  property: keyof E & string;
  isDate?: boolean;
  descending?: boolean;
}

const scopeOf = <E extends ObjectLiteral>(order: KeysetOrder<E>): CursorScope => ({
  listing: order.listing,
  sort: order.property,
  descending: !!order.descending,
  keys: [order.isDate ? 'date' : 'string', 'uuid'],
});

/**
 * Keyset pagination: stable under concurrent inserts and deletes (no skipped or repeated rows),
 * unlike offsets. Orders by `column` then by the id, fetches one extra row to know if more follow.
 *
 * `keyset` reads the cursor first — a cursor this listing with this order did not return is a 400
 * before any query runs — and gives the page to fetch once the query is built.
 */
export async function keyset<E extends ObjectLiteral>(ds: DataSource, order: KeysetOrder<E>, cursor: string | undefined) {
  const codec = await codecOf(ds);
  const scope = scopeOf(order);
  const after = cursor ? codec.decode(scope, cursor) : undefined;
  if (cursor && !after) throw new BadRequestException(NOT_A_CURSOR);
  const { alias, column, descending } = order;
  return {
    async page<T>(qb: SelectQueryBuilder<E>, limit: number, map: (e: E) => T): Promise<Page<T>> {
      const op = descending ? '<' : '>';
      if (after) {
        const [value, id] = after;
        const kv = value instanceof Date ? dbDate(ds, value) : value instanceof CutString ? value.prefix : value;
        // A cut value (a key too long to carry whole) is the row's own, looked up by its id; the
        // prefix stands in only when that row is gone since (ascending: a few rows may show again).
        const key = value instanceof CutString ? `COALESCE(${wholeKey(qb, alias, column)}, :kv)` : ':kv';
        qb.andWhere(`(${alias}.${column} ${op} ${key} OR (${alias}.${column} = ${key} AND ${alias}.id ${op} :kid))`, { kv, kid: id });
      }
      const dir = descending ? 'DESC' : 'ASC';
      const rows = await qb.orderBy(`${alias}.${column}`, dir).addOrderBy(`${alias}.id`, dir).take(undefined).limit(limit + 1).getMany();
      const more = rows.length > limit;
      const items = more ? rows.slice(0, limit) : rows;
      const last = items.at(-1);
      return { items: items.map(map), nextCursor: more && last ? codec.encode(scope, [last[order.property], last.id]) : null };
    },
  };
}

/** The sort key of the row `:kid` of the listing's table, as a subquery. */
function wholeKey<E extends ObjectLiteral>(qb: SelectQueryBuilder<E>, alias: string, column: string): string {
  const { metadata } = qb.expressionMap.findAliasByName(alias);
  return qb.subQuery().select(`k.${column}`).from(metadata.target, 'k').where('k.id = :kid').getQuery();
}

/** `keyset` and its page in one call, for a listing whose query runs nothing before the page. */
export async function keysetPage<E extends ObjectLiteral, T>(
  qb: SelectQueryBuilder<E>,
  opts: KeysetOrder<E> & { ds: DataSource; limit: number; cursor?: string; map: (e: E) => T },
): Promise<Page<T>> {
  return (await keyset(opts.ds, opts, opts.cursor)).page(qb, opts.limit, opts.map);
}

/** LIKE pattern for a case-insensitive "contains" search, with wildcards escaped. */
export function containsPattern(q: string): string {
  return `%${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
