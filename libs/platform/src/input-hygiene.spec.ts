import fc from 'fast-check';
import {
  findInputProblems,
  MAX_PROBLEMS,
  NUL_MESSAGE,
  paramProblems,
  PERCENT_ENCODING_MESSAGE,
  printable,
  queryProblems,
  SURROGATE_MESSAGE,
  textProblem,
} from './input-hygiene';

const RESERVED = 'is a reserved name (__proto__, constructor, prototype)';

/** The oracle, written another way: String.prototype.isWellFormed (ES2024, in Node 20). */
const wellFormed = (s: string) => (s as string & { isWellFormed(): boolean }).isWellFormed();
const cleanText = (s: string) => !s.includes('\u0000') && wellFormed(s);
const clean = (v: unknown): boolean =>
  typeof v === 'string'
    ? cleanText(v)
    : Array.isArray(v)
      ? v.every(clean)
      : v !== null && typeof v === 'object'
        ? Object.entries(v).every(([k, x]) => cleanText(k) && !['__proto__', 'constructor', 'prototype'].includes(k) && clean(x))
        : true;

// Code units that pair up or not, NULs, ordinary and astral letters; reserved names as whole keys.
const unit = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom('a', 'Z', ' ', 'é', '中', '😀', '\u{10FFFF}', '\uFFFD') },
  { weight: 1, arbitrary: fc.constantFrom('\u0000', '\uD800', '\uDBFF', '\uDC00', '\uDFFF') },
);
const anyJson = fc.jsonValue({ maxDepth: 4, stringUnit: unit });
const cleanJson = fc.jsonValue({ maxDepth: 4, stringUnit: fc.constantFrom('a', 'Z', ' ', 'é', '中', '😀', '\u{10FFFF}', '\uFFFD', '_') });
const bad = fc.constantFrom(
  { text: 'a\u0000b', message: NUL_MESSAGE },
  { text: '\uD800', message: SURROGATE_MESSAGE },
  { text: 'x\uDFFF', message: SURROGATE_MESSAGE },
  { text: '\uDC00\uD800', message: SURROGATE_MESSAGE }, // low before high: two lone halves, not a pair
);
const reserved = fc.constantFrom('__proto__', 'constructor', 'prototype');

/** Puts `leaf` somewhere in `value` (following `choices`), and answers the path to it. */
function plant(
  value: unknown,
  choices: number[],
  leaf: (container: 'array' | 'object' | 'root') => { value: unknown; key?: string },
): { value: unknown; path: (string | number)[] } {
  const [choice, ...rest] = choices;
  if (Array.isArray(value) && value.length && choice !== undefined && choice % 3 !== 0) {
    const i = choice % value.length;
    const inner = plant(value[i], rest, leaf);
    const copy = [...value];
    copy[i] = inner.value;
    return { value: copy, path: [i, ...inner.path] };
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value);
    if (keys.length && choice !== undefined && choice % 3 !== 0) {
      const k = keys[choice % keys.length];
      const inner = plant((value as Record<string, unknown>)[k], rest, leaf);
      return { value: { ...value, [k]: inner.value }, path: [k, ...inner.path] };
    }
    const planted = leaf('object');
    const key = planted.key ?? 'planted';
    // defineProperty, so a key named __proto__ is an own member, as JSON.parse makes it
    const copy = { ...value };
    Object.defineProperty(copy, key, { value: planted.value, enumerable: true, configurable: true, writable: true });
    return { value: copy, path: [key] };
  }
  if (Array.isArray(value)) return { value: [...value, leaf('array').value], path: [value.length] };
  return { value: leaf('root').value, path: [] };
}

describe('input hygiene: text', () => {
  it('finds a NUL and unpaired surrogates, and lets pairs and everything else through', () => {
    expect(textProblem('Ann Example')).toBeUndefined();
    expect(textProblem('😀 \uD83D\uDE00 \u{10FFFF} \uFFFD')).toBeUndefined();
    expect(textProblem('a\u0000')).toBe(NUL_MESSAGE);
    expect(textProblem('a\uD800b')).toBe(SURROGATE_MESSAGE);
    expect(textProblem('\uDE00')).toBe(SURROGATE_MESSAGE);
    expect(textProblem('\uD83D')).toBe(SURROGATE_MESSAGE);
  });

  it('names the member that holds it, at any depth', () => {
    const body = JSON.parse('{"users":[{"username":"a"},{"displayName":"x\\u0000","properties":{"dept":"\\ud800"}}]}');
    expect(findInputProblems(body)).toEqual([
      { field: 'users.1.displayName', message: NUL_MESSAGE },
      { field: 'users.1.properties.dept', message: SURROGATE_MESSAGE },
    ]);
    expect(findInputProblems('\u0000')).toEqual([{ field: '(body)', message: NUL_MESSAGE }]);
    expect(findInputProblems(undefined)).toEqual([]);
  });

  it('refuses reserved member names, own members as JSON.parse makes them, and shows a bad name escaped', () => {
    expect(findInputProblems(JSON.parse('{"mapping":{"properties":{"__proto__":"x"}}}'))).toEqual([
      { field: 'mapping.properties.__proto__', message: RESERVED },
    ]);
    expect(findInputProblems(JSON.parse('[{"constructor":1},{"prototype":{}}]'))).toEqual([
      { field: '0.constructor', message: RESERVED },
      { field: '1.prototype', message: RESERVED },
    ]);
    expect(findInputProblems(JSON.parse('{"a\\u0000b":1,"\\udc00":2}'))).toEqual([
      { field: 'a\\u0000b', message: NUL_MESSAGE },
      { field: '\\uDC00', message: SURROGATE_MESSAGE },
    ]);
    // a value may be any of those words: only names are reserved
    expect(findInputProblems({ name: '__proto__', description: 'constructor' })).toEqual([]);
  });

  it('names at most a few problems, and walks any depth without recursion', () => {
    expect(findInputProblems({ users: Array.from({ length: 5000 }, () => ({ displayName: '\u0000' })) })).toHaveLength(MAX_PROBLEMS);
    const deep = JSON.parse(`${'['.repeat(100_000)}"\\u0000"${']'.repeat(100_000)}`);
    expect(findInputProblems(deep)).toHaveLength(1);
  });

  it('finds a problem exactly when the oracle does (property)', () => {
    fc.assert(
      fc.property(anyJson, (v) => {
        expect(findInputProblems(v).length === 0).toBe(clean(v));
      }),
      { numRuns: 500 },
    );
  });

  it('passes any clean JSON value; a bad string planted anywhere is found and its path named (property)', () => {
    fc.assert(
      fc.property(cleanJson, fc.array(fc.nat(), { maxLength: 6 }), bad, (v, choices, b) => {
        expect(findInputProblems(v)).toEqual([]);
        const planted = plant(v, choices, () => ({ value: b.text }));
        expect(findInputProblems(planted.value)).toEqual([{ field: planted.path.length ? planted.path.join('.') : '(body)', message: b.message }]);
      }),
      { numRuns: 500 },
    );
  });

  it('a bad or reserved member name planted anywhere is found and its path named (property)', () => {
    fc.assert(
      fc.property(
        cleanJson,
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.oneof(
          bad.map((b) => ({ key: `k${b.text}`, message: b.message })),
          reserved.map((key) => ({ key, message: RESERVED })),
        ),
        (v, choices, b) => {
          const planted = plant(v, choices, (container) =>
            container === 'object' ? { key: b.key, value: 'fine' } : { value: Object.defineProperty({}, b.key, { value: 1, enumerable: true }) },
          );
          const last =
            planted.path.length && typeof planted.path.at(-1) === 'string' && planted.path.at(-1) === b.key ? planted.path : [...planted.path, b.key];
          expect(findInputProblems(planted.value)).toEqual([{ field: last.map(printable).join('.'), message: b.message }]);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('input hygiene: URLs', () => {
  it('decodes the query strictly: NUL, encoded surrogates and other invalid UTF-8 are problems', () => {
    expect(queryProblems('q=ann&limit=10&sort=-username&x=%E2%82%AC+b&empty&=v')).toEqual([]);
    expect(queryProblems('q=a%00b')).toEqual([{ field: 'q', message: NUL_MESSAGE }]);
    expect(queryProblems('q=a%ED%A0%80')).toEqual([{ field: 'q', message: PERCENT_ENCODING_MESSAGE }]);
    expect(queryProblems('returnTo=%FF')).toEqual([{ field: 'returnTo', message: PERCENT_ENCODING_MESSAGE }]);
    expect(queryProblems('%FF=1')).toEqual([{ field: '(query)', message: PERCENT_ENCODING_MESSAGE }]);
    expect(queryProblems('__proto__=1&q=constructor')).toEqual([{ field: '__proto__', message: RESERVED }]);
    expect(queryProblems('a%00=1')).toEqual([{ field: 'a\\u0000', message: NUL_MESSAGE }]);
  });

  it('checks path parameters as names', () => {
    expect(paramProblems({ id: '01a2', key: 'dept' })).toEqual([]);
    expect(paramProblems({ id: '01a2', key: '__proto__' })).toEqual([{ field: 'key', message: RESERVED }]);
    expect(paramProblems({ idp: 'a\u0000' })).toEqual([{ field: 'idp', message: NUL_MESSAGE }]);
    expect(paramProblems({ file: ['a', '\uD800'] })).toEqual([{ field: 'file', message: SURROGATE_MESSAGE }]);
  });

  it('a query value is any clean text, percent-encoded as browsers do (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (value, planted) => {
        expect(queryProblems(`q=${encodeURIComponent(value)}`)).toEqual([]);
        expect(queryProblems(`q=${encodeURIComponent(value)}%00${encodeURIComponent(planted)}`)).toEqual([{ field: 'q', message: NUL_MESSAGE }]);
      }),
    );
  });
});
