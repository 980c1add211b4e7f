import { screenValues } from './name-policy';

describe('screenValues (issue 25/26, F4): what a login or a sync item may store, one value at a time', () => {
  it('keeps good values as they are', () => {
    expect(screenValues('Alice \u202E', { dept: 'ops', note: '' })).toEqual({
      displayName: 'Alice \u202E',
      properties: { dept: 'ops', note: '' },
      refused: [],
    });
    expect(screenValues(null, undefined)).toEqual({ displayName: null, properties: undefined, refused: [] });
  });

  it('leaves out each value with a NUL or a lone surrogate, and a display name that is too long, naming the field', () => {
    const screened = screenValues('A\u0000', { dept: 'a\u0000b', team: 'red', site: 'x\ud800', ['k\u0000']: 'v', __proto__x: 'ok' });
    expect(screened.displayName).toBeUndefined();
    expect({ ...screened.properties }).toEqual({ team: 'red', __proto__x: 'ok' });
    expect(screened.refused).toEqual([
      { field: 'displayName', reason: 'contains a NUL character' },
      { field: 'properties.dept', reason: 'contains a NUL character' },
      { field: 'properties.site', reason: 'contains an unpaired surrogate' },
      { field: 'properties.k\\u0000', reason: 'contains a NUL character' },
    ]);
    expect(screenValues('D'.repeat(256), {}).refused).toEqual([{ field: 'displayName', reason: 'is longer than 255 characters' }]);
    expect(screenValues('D'.repeat(255), {}).refused).toEqual([]);
  });

  it('leaves out a property whose name is reserved (as the admin API refuses it)', () => {
    const props = JSON.parse('{"__proto__": "x", "dept": "ops"}') as Record<string, string>;
    const screened = screenValues(null, props);
    expect({ ...screened.properties }).toEqual({ dept: 'ops' });
    expect(screened.refused).toEqual([{ field: 'properties.__proto__', reason: expect.stringMatching(/reserved/) }]);
  });
});
