import fc from 'fast-check';
import { mergePatch } from './merge-patch';

describe('JSON merge patch (RFC 7396)', () => {
  // The examples of RFC 7396, appendix A.
  it.each([
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [
      ['a', 'b'],
      ['c', 'd'],
      ['c', 'd'],
    ],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ])('%j patched with %j is %j', (target, patch, expected) => {
    expect(mergePatch(target, patch)).toEqual(expected);
  });

  it('keeps __proto__ a member, never the prototype', () => {
    const patched = mergePatch({}, JSON.parse('{"__proto__": {"polluted": true}, "a": {"__proto__": {"x": 1}}}')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(patched)).toBe(Object.prototype);
    expect(Object.keys(patched)).toEqual(['__proto__', 'a']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  const json = fc.jsonValue({ maxDepth: 3 });
  const object = fc.dictionary(fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom('__proto__', 'constructor', 'a')), json, { maxKeys: 5 });
  // structuredClone, not a JSON round trip: that turns -0 into 0, which toEqual tells apart.
  const copy = (v: unknown) => structuredClone(v);

  it('changes what the patch names and nothing else, and leaves both inputs as they were (property)', () => {
    fc.assert(
      fc.property(object, object, (target, patch) => {
        const [t0, p0] = [copy(target), copy(patch)];
        const result = mergePatch(target, patch) as Record<string, unknown>;
        expect(target).toEqual(t0);
        expect(patch).toEqual(p0);
        for (const key of Object.keys(target)) if (!Object.hasOwn(patch, key)) expect(result[key]).toEqual(target[key]);
        for (const [key, value] of Object.entries(patch)) {
          if (value === null) expect(Object.hasOwn(result, key)).toBe(false);
          else if (typeof value !== 'object' || Array.isArray(value)) expect(result[key]).toEqual(value);
        }
        expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
      }),
    );
  });

  it('is idempotent, and an empty patch changes nothing (property)', () => {
    fc.assert(
      fc.property(object, object, (target, patch) => {
        const once = mergePatch(target, patch);
        expect(mergePatch(once, patch)).toEqual(once);
        expect(mergePatch(target, {})).toEqual(target);
      }),
    );
  });
});
