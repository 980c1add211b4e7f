import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { CURSOR_MAX_STRING, CursorCodec, CursorKeyType, CursorScope, CursorValue, CutString } from './cursor';

const codec = new CursorCodec(randomBytes(32));
const users: CursorScope = { listing: 'directory.users', sort: 'createdAt', descending: false, keys: ['date', 'uuid'] };
const id = '0192f3a4-5b6c-7d8e-9f01-23456789abcd';
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** Values of each key type, as rows hold them: text both engines store, dates of years 1–9999. */
const valueOf: Record<CursorKeyType, fc.Arbitrary<CursorValue>> = {
  string: fc.string({ unit: 'grapheme', maxLength: CURSOR_MAX_STRING / 4 }).filter((s) => s.length <= CURSOR_MAX_STRING && !s.includes('\0')),
  date: fc.date({ min: new Date('0001-01-01T00:00:00.000Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }),
  // -0 is no integer key (a cursor's 0 is 0): n and its negation, never -0.
  int: fc.maxSafeInteger().chain((n) => fc.constantFrom(n, n === 0 ? 0 : -n)),
  uuid: fc.uuid(),
};
const keyType = fc.constantFrom<CursorKeyType>('string', 'date', 'int', 'uuid');
const scopeArb: fc.Arbitrary<CursorScope> = fc.record({
  listing: fc.constantFrom('directory.users', 'directory.group-members', 'directory.groups', 'auth.login-traces', 'provisioning.sync-runs', 'audit'),
  sort: fc.constantFrom('username', 'createdAt', 'updatedAt', 'name', 'startedAt', 'at'),
  descending: fc.boolean(),
  keys: fc.array(keyType, { minLength: 1, maxLength: 3 }),
});
/** A scope and values that fit it. */
const scoped = scopeArb.chain((scope) => fc.tuple(fc.constant(scope), fc.tuple(...scope.keys.map((k) => valueOf[k]))));
const sameScope = (a: CursorScope, b: CursorScope) => JSON.stringify(a) === JSON.stringify(b);

describe('cursor codec (properties)', () => {
  it('gives back what it encoded, for every key type', () => {
    fc.assert(
      fc.property(scoped, ([scope, values]) => {
        expect(codec.decode(scope, codec.encode(scope, values))).toEqual(values);
      }),
    );
  });

  it('refuses any string it did not make, and never throws', () => {
    fc.assert(
      fc.property(scopeArb, fc.oneof(fc.string({ unit: 'binary' }), fc.base64String(), fc.stringMatching(/^[A-Za-z0-9_-]{1,80}\.[A-Za-z0-9_-]{43}$/)), (scope, s) => {
        expect(codec.decode(scope, s)).toBeUndefined();
      }),
    );
  });

  it('refuses a cursor with any one character changed, added or removed', () => {
    const alphabet = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.='.split(''));
    fc.assert(
      fc.property(scoped, fc.nat(), alphabet, fc.constantFrom('replace', 'insert', 'delete'), ([scope, values], at, c, how) => {
        const cursor = codec.encode(scope, values);
        const i = at % cursor.length;
        const changed = cursor.slice(0, i) + (how === 'delete' ? '' : c) + cursor.slice(how === 'insert' ? i : i + 1);
        fc.pre(changed !== cursor);
        expect(codec.decode(scope, changed)).toBeUndefined();
      }),
    );
  });

  it("refuses another scope's cursor: another listing, sort, direction or key types", () => {
    fc.assert(
      fc.property(scoped, scopeArb, ([a, values], b) => {
        fc.pre(!sameScope(a, b));
        expect(codec.decode(b, codec.encode(a, values))).toBeUndefined();
      }),
    );
  });

  it("refuses a cursor made with another key (another service's, or before the key changed)", () => {
    const other = new CursorCodec(randomBytes(32));
    fc.assert(
      fc.property(scoped, ([scope, values]) => {
        expect(other.decode(scope, codec.encode(scope, values))).toBeUndefined();
      }),
    );
  });
});

describe('cursor codec', () => {
  const cursor = codec.encode(users, [new Date('2025-01-02T03:04:05.678Z'), id]);

  it('is opaque: text of the URL-safe alphabet with a signature', () => {
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(codec.decode(users, cursor)).toEqual([new Date('2025-01-02T03:04:05.678Z'), id]);
  });

  it('refuses the crafted cursors of issue 25, unsigned and signed alike', () => {
    const crafted = [[{}, {}], [1e309, 'x'], [{ a: 1 }, 'x'], ['2025-02-30T00:00:00.000Z', id], ['not a date', id], ['2025-01-02T03:04:05.678Z', 'x'], ['2025-01-02T03:04:05.678Z'], ['2025-01-02T03:04:05.678Z', id, 1]];
    for (const values of crafted) {
      // What the old cursors were: base64url JSON, no signature.
      expect(codec.decode(users, b64(values))).toBeUndefined();
      // Even signed with the right key (the key leaked), values that do not fit the types are refused.
      const payload = b64(values);
      const sign = (codec as unknown as { sign(s: CursorScope, p: string): string }).sign.bind(codec);
      expect(codec.decode(users, `${payload}.${sign(users, payload)}`)).toBeUndefined();
    }
    for (const junk of ['', '.', 'x', '%%%', `${cursor}.x`, `${cursor}=`, ' '.repeat(10), 'A'.repeat(7000)]) expect(codec.decode(users, junk)).toBeUndefined();
    expect(codec.decode(users, 42)).toBeUndefined();
  });

  it('refuses to encode values that do not fit their types (a bug in the caller)', () => {
    expect(() => codec.encode(users, [new Date(NaN), id])).toThrow();
    expect(() => codec.encode(users, ['2025-01-02T03:04:05.678Z', id])).toThrow();
    expect(() => codec.encode(users, [new Date(), 'x'])).toThrow();
    expect(() => codec.encode(users, [new Date()])).toThrow();
    expect(() => codec.encode({ ...users, keys: ['int'] }, [Infinity])).toThrow();
  });

  it('never throws for a string a column holds (issue 25/26, F1): one it cannot carry whole comes back as its longest prefix that fits', () => {
    const scope: CursorScope = { listing: 'directory.groups', sort: 'nameLower', descending: false, keys: ['string', 'uuid'] };
    const long = '\u05E9\u05BC\u05C1'.repeat(255); // U+FB2C ×255 in NFC: 765 code units
    expect(codec.decode(scope, codec.encode(scope, [long, id]))).toEqual([new CutString(long.slice(0, CURSOR_MAX_STRING)), id]);
    expect(codec.decode(scope, codec.encode(scope, ['a\0b', id]))).toEqual([new CutString('a'), id]);
    expect(codec.decode(scope, codec.encode(scope, ['ab\ud800c', id]))).toEqual([new CutString('ab'), id]);
    // A pair is never cut in two.
    const pairs = `a${'\u{1F600}'.repeat(CURSOR_MAX_STRING)}`;
    expect(codec.decode(scope, codec.encode(scope, [pairs, id]))).toEqual([new CutString(pairs.slice(0, CURSOR_MAX_STRING - 1)), id]);
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 2000 }), (s) => {
        const [value] = codec.decode(scope, codec.encode(scope, [s, id]))!;
        expect(value instanceof CutString ? s.startsWith(value.prefix) : value === s).toBe(true);
      }),
    );
  });

  it('fits the longest names: 255 characters of four-byte UTF-8, lower-cased twice as long', () => {
    const scope: CursorScope = { listing: 'directory.users', sort: 'username', descending: false, keys: ['string', 'uuid'] };
    const name = '\u{1F600}'.repeat(CURSOR_MAX_STRING / 2);
    expect(codec.decode(scope, codec.encode(scope, [name, id]))).toEqual([name, id]);
  });
});
