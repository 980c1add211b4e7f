import { propertyValue, propertyValueSchema, samePropertyValue } from './property-value';

describe('property values', () => {
  it('reads an attribute: trimmed, blank values and repeats left out, in order; one value a string; none absent', () => {
    expect(propertyValue(['b', ' a ', 'b', '', '  '])).toEqual(['b', 'a']);
    expect(propertyValue(['only', 'only'])).toBe('only');
    expect(propertyValue(['', ' '])).toBeUndefined();
    expect(propertyValue(undefined)).toBeUndefined();
  });

  it('compares lists regardless of order, never a list with a string', () => {
    expect(samePropertyValue(['a', 'b'], ['b', 'a'])).toBe(true);
    expect(samePropertyValue(['a', 'b'], ['a', 'b', 'c'])).toBe(false);
    expect(samePropertyValue(['a', 'b'], ['a', 'a'])).toBe(false);
    expect(samePropertyValue('a', ['a'])).toBe(false);
    expect(samePropertyValue('a', 'a')).toBe(true);
    expect(samePropertyValue(undefined, 'a')).toBe(false);
  });

  it('takes a string or a list; a list of one is its string; an empty list is refused', () => {
    expect(propertyValueSchema.parse(' x ')).toBe(' x ');
    expect(propertyValueSchema.parse(['x', 'y', 'x'])).toEqual(['x', 'y']);
    expect(propertyValueSchema.parse(['x', ''])).toBe('x');
    expect(propertyValueSchema.safeParse([]).success).toBe(false);
    expect(propertyValueSchema.safeParse(['']).success).toBe(false);
    expect(propertyValueSchema.safeParse([1]).success).toBe(false);
  });
});
