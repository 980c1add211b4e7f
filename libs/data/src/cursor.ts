import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Pagination cursors that are opaque, scoped and authenticated: a cursor carries the sort key
 * values of the last row of a page, and an HMAC over them and the scope it was made for (the
 * listing, the sort, its direction and the types of the keys). `decode` gives back the values only
 * for a cursor `encode` made for that same scope with the same key, and only values that fit the
 * scope's types; anything else — another listing's or another sort's cursor, a tampered or
 * made-up one — is refused (`undefined`), never thrown, so a caller answers 400 before any query.
 *
 * Pure: no Nest, no database. The key is the caller's (see pagination.ts).
 */

/** The type of one sort key: a string, a timestamp (ms precision), a safe integer, or an id. */
export type CursorKeyType = 'string' | 'date' | 'int' | 'uuid';
export type CursorValue = string | number | Date | CutString;

/**
 * A string sort key a cursor could not carry whole (longer than CURSOR_MAX_STRING, or holding a
 * NUL or a lone surrogate: only rows an older writer left, on SQLite, which keeps any length): its
 * longest prefix that fits. The listing finds the whole value again by the row's id (pagination.ts).
 */
export class CutString {
  constructor(readonly prefix: string) {}
}

export interface CursorScope {
  /** Names the listing, e.g. `directory.users`; two listings never share a name. */
  listing: string;
  /** The sort field, e.g. `createdAt`. */
  sort: string;
  descending: boolean;
  /** The type of each value the cursor carries, in order (e.g. the sort column, then the id). */
  keys: readonly CursorKeyType[];
}

/** Strings a cursor may carry: at most this many UTF-16 units (names are at most 255, lower-cased maybe twice that). */
export const CURSOR_MAX_STRING = 512;
/** The longest cursor: a string of the longest, all of it escaped in JSON, and an id fit. */
export const CURSOR_MAX_LENGTH = 6000;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** What Date#toISOString gives for the years both engines store (0001–9999). */
const ISO_MS = /^(?!0000)\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const LONE_SURROGATE = /\p{Cs}/u;
const SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/;

/** Text a cursor carries whole: both engines can hold it (no lone surrogate: not UTF-8; no NUL: PostgreSQL refuses it), not too long. */
const fits = (v: string) => v.length <= CURSOR_MAX_STRING && !LONE_SURROGATE.test(v) && !v.includes('\0');

/** The longest prefix of `v` that fits, never ending inside a surrogate pair. */
function prefixOf(v: string): string {
  const bad = v.search(/\0|\p{Cs}/u);
  let end = Math.min(bad < 0 ? v.length : bad, CURSOR_MAX_STRING);
  if (end > 0 && /[\ud800-\udbff]/.test(v[end - 1])) end--;
  return v.slice(0, end);
}

/** The JSON form of a cut string: an object, so no string can be read as one. */
interface CutJson {
  cut: string;
}

/** The JSON form a value of `type` is encoded as: any string, cut when it does not fit; undefined when the value is not of the type. */
function encodeJson(type: CursorKeyType, v: unknown): string | number | CutJson | undefined {
  if (type !== 'string') return toJson(type, v);
  if (v instanceof CutString) return fits(v.prefix) ? { cut: v.prefix } : undefined;
  if (typeof v !== 'string') return undefined;
  return fits(v) ? v : { cut: prefixOf(v) };
}

/** The JSON form of a value of `type`, or undefined when the value does not fit the type. */
function toJson(type: CursorKeyType, v: unknown): string | number | undefined {
  switch (type) {
    case 'string':
      return typeof v === 'string' && fits(v) ? v : undefined;
    case 'uuid':
      return typeof v === 'string' && GUID.test(v) ? v : undefined;
    case 'int':
      return typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined;
    case 'date': {
      if (!(v instanceof Date) || Number.isNaN(v.getTime())) return undefined;
      const iso = v.toISOString();
      return ISO_MS.test(iso) ? iso : undefined;
    }
  }
}

/** The value of `type` a JSON value stands for, or undefined when it does not fit the type. */
function fromJson(type: CursorKeyType, j: unknown): CursorValue | undefined {
  if (type === 'string' && typeof j === 'object' && j !== null && !Array.isArray(j)) {
    const keys = Object.keys(j);
    const cut = (j as Partial<CutJson>).cut;
    return keys.length === 1 && typeof cut === 'string' && fits(cut) ? new CutString(cut) : undefined;
  }
  if (type !== 'date') return toJson(type, j);
  if (typeof j !== 'string' || !ISO_MS.test(j)) return undefined;
  const d = new Date(j);
  // A date that does not exist (2024-02-30) parses to another day or to NaN: refused either way.
  return !Number.isNaN(d.getTime()) && d.toISOString() === j ? d : undefined;
}

export class CursorCodec {
  constructor(private readonly key: Buffer) {
    if (key.length < 32) throw new Error('a cursor key has at least 32 bytes');
  }

  /**
   * A cursor for `values` in `scope`. Any string is encoded (one that does not fit is cut, see
   * CutString); throws only when a value is not of its type at all (a bug, not input or data).
   */
  encode(scope: CursorScope, values: readonly CursorValue[]): string {
    if (values.length !== scope.keys.length) throw new Error(`a ${scope.listing} cursor carries ${scope.keys.length} values`);
    const json = scope.keys.map((type, i) => {
      const j = encodeJson(type, values[i]);
      if (j === undefined) throw new Error(`a ${scope.listing} cursor's value ${i} is not a ${type}`);
      return j;
    });
    const payload = Buffer.from(JSON.stringify(json)).toString('base64url');
    const cursor = `${payload}.${this.sign(scope, payload)}`;
    if (cursor.length > CURSOR_MAX_LENGTH) throw new Error(`a ${scope.listing} cursor would be longer than ${CURSOR_MAX_LENGTH}`);
    return cursor;
  }

  /** The values of a cursor `encode` made for `scope`; undefined for anything else. Never throws. */
  decode(scope: CursorScope, cursor: unknown): CursorValue[] | undefined {
    if (typeof cursor !== 'string' || cursor.length > CURSOR_MAX_LENGTH || !SHAPE.test(cursor)) return undefined;
    const [payload, mac] = cursor.split('.');
    // Compared as text, so a signature spelled another way (base64url's spare low bits) is refused too.
    const expected = Buffer.from(this.sign(scope, payload));
    if (!timingSafeEqual(Buffer.from(mac), expected)) return undefined;
    let json: unknown;
    try {
      json = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
    // Signed by us, so these hold unless the key leaked: checked all the same, the types are the contract.
    if (!Array.isArray(json) || json.length !== scope.keys.length) return undefined;
    const values = scope.keys.map((type, i) => fromJson(type, json[i]));
    return values.every((v) => v !== undefined) ? (values as CursorValue[]) : undefined;
  }

  private sign(scope: CursorScope, payload: string): string {
    const context = JSON.stringify(['bridgekeeper-cursor/1', scope.listing, scope.sort, scope.descending ? 'desc' : 'asc', scope.keys]);
    return createHmac('sha256', this.key).update(context).update('\n').update(payload).digest('base64url');
  }
}
