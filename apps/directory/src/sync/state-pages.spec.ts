import { GroupPageFiller, jsonBytes, PageFiller, pageBudget, readStateCursor, StateCursor, StateRow, writeStateCursor } from './state-pages';

const row = (id: string, over: Partial<StateRow> = {}): StateRow => ({
  id,
  externalId: `kc-${id}`,
  username: id,
  email: null,
  displayName: null,
  active: true,
  groups: [],
  otherGroups: [],
  properties: {},
  ...over,
});
const names = (prefix: string, n: number, width = 40) => Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(5, '0')}`.padEnd(width, 'x'));

/** Pages of rows as the service makes them: each page from where the last one's cursor points, until none is left. */
function pagesOf(rows: StateRow[], budget: number, itemsFit = true): { rows: StateRow[]; next: StateCursor | undefined }[] {
  const pages: { rows: StateRow[]; next: StateCursor | undefined }[] = [];
  let cursor: StateCursor | undefined;
  for (let guard = 0; guard < 10_000; guard++) {
    const page = new PageFiller(budget);
    const from = cursor === undefined ? 0 : rows.findIndex((r) => ('after' in cursor! ? r.id > cursor!.after : r.id >= cursor!.within));
    for (const r of from < 0 ? [] : rows.slice(from)) if (!page.add(r, cursor && 'within' in cursor && cursor.within === r.id ? cursor.skip : 0)) break;
    // Stays under the budget: the page's JSON rows, with the commas between them.
    if (itemsFit) expect(jsonBytes(page.rows)).toBeLessThanOrEqual(budget + 1);
    pages.push({ rows: page.rows, next: page.next });
    if (!page.next) return pages;
    cursor = page.next;
  }
  throw new Error('the pages never end');
}

/** The pages' rows, a cut user's parts joined (as provisioning's reader does). */
function joined(pages: { rows: StateRow[] }[]): StateRow[] {
  const out: StateRow[] = [];
  let waiting: StateRow | undefined;
  for (const { continued, ...r } of pages.flatMap((p) => p.rows)) {
    const whole =
      waiting && waiting.id === r.id
        ? {
            ...waiting,
            groups: [...waiting.groups, ...r.groups],
            otherGroups: [...waiting.otherGroups, ...r.otherGroups],
            properties: { ...waiting.properties, ...r.properties },
          }
        : r;
    waiting = continued ? whole : undefined;
    if (!continued) out.push(whole);
  }
  expect(waiting).toBeUndefined();
  return out;
}

describe('User Sync state pages cut by size', () => {
  it('takes seven eighths of the max_payload as the budget (1 MB when the connection does not say)', () => {
    expect(pageBudget(1024 * 1024)).toBe(917_504);
    expect(pageBudget(undefined)).toBe(917_504);
    expect(pageBudget(8 * 1024 * 1024)).toBe(7 * 1024 * 1024);
  });

  it('reads back the cursors it writes', () => {
    const id = '0192f3a4-5b6c-4d8e-9f01-23456789abcd';
    for (const c of [{ after: id }, { within: id, skip: 17 }] as StateCursor[]) expect(readStateCursor(writeStateCursor(c))).toEqual(c);
    expect(readStateCursor(undefined)).toBeUndefined();
  });

  it('fills a page with whole rows up to the budget, and the next page starts after the last one', () => {
    const rows = Array.from({ length: 30 }, (_, i) => row(`u${String(i).padStart(3, '0')}`, { groups: names('g', 5) }));
    const one = jsonBytes(rows[0]) + 1;
    const page = new PageFiller(one * 10 + 5);
    let taken = 0;
    for (const r of rows)
      if (page.add(r)) taken++;
      else break;
    expect(taken).toBe(10);
    expect(page.next).toEqual({ after: 'u009' });
    expect(page.rows.every((r) => !r.continued)).toBe(true);
    expect(page.add(rows[11])).toBe(false); // full: nothing more goes in
    expect(page.rows).toHaveLength(10);
  });

  it('sends a row larger than a page in parts, each under the budget, that join back to the row', () => {
    const giant = row('u001', {
      groups: names('own', 3000),
      otherGroups: names('other', 500),
      properties: Object.fromEntries(names('k', 50).map((k, i) => [k, i % 2 ? 'v'.repeat(2000) : ['a'.repeat(900), 'b'.repeat(900)]])),
    });
    const rows = [row('u000'), giant, row('u002', { groups: ['one'] })];
    const budget = 20_000;
    expect(jsonBytes(giant)).toBeGreaterThan(10 * budget);
    const pages = pagesOf(rows, budget);
    expect(pages.length).toBeGreaterThan(10);
    // The first page holds u000 and not the giant (it does not fit whole after a row): it starts the next page.
    expect(pages[0].rows.map((r) => r.id)).toEqual(['u000']);
    expect(pages[0].next).toEqual({ after: 'u000' });
    // Every part but the last is continued and ends its page; the last is followed on its page by u002.
    const parts = pages.flatMap((p) => p.rows).filter((r) => r.id === 'u001');
    expect(parts.slice(0, -1).every((p) => p.continued)).toBe(true);
    expect(parts[parts.length - 1].continued).toBeUndefined();
    expect(pages[pages.length - 1].rows.map((r) => r.id)).toEqual(['u001', 'u002']);
    expect(joined(pages)).toEqual(rows);
  });

  it('always moves on: a single item larger than the budget still goes, one a page', () => {
    const big = row('u000', { properties: { a: 'x'.repeat(500), b: 'y'.repeat(500), c: 'z' } });
    const pages = pagesOf([big], 300, false);
    expect(pages.map((p) => Object.keys(p.rows[0].properties))).toEqual([['a'], ['b'], ['c']]);
    expect(joined(pages)).toEqual([big]);
  });

  it('resumes inside a row from its skip, and goes on past it when the rest fits', () => {
    const r = row('u000', { groups: ['a', 'b', 'c'], otherGroups: ['d'], properties: { k: 'v' } });
    const page = new PageFiller(10_000);
    expect(page.add(r, 2)).toBe(true);
    expect(page.add(row('u001'))).toBe(true);
    expect(page.rows[0]).toEqual({ ...r, groups: ['c'] });
    expect(page.next).toBeUndefined();
    // A skip past every item (the user lost groups between pages): the row's fields, no items.
    const after = new PageFiller(10_000);
    expect(after.add(r, 9)).toBe(true);
    expect(after.rows[0]).toEqual({ ...r, groups: [], otherGroups: [], properties: {} });
  });

  it('keeps a property named like __proto__ as data in a part', () => {
    const r = row('u000', { groups: names('g', 50), properties: JSON.parse('{"__proto__":"p","z":"q"}') as Record<string, string> });
    const pages = pagesOf([r], 1000);
    const last = pages[pages.length - 1].rows[0];
    expect(Object.keys(last.properties)).toEqual(['__proto__', 'z']);
    expect(Object.getPrototypeOf(last.properties)).toBeNull();
  });

  describe('group pages', () => {
    const group = (name: string) => ({ name, nameLower: name.toLowerCase(), externalId: `x-${name}` });

    it('lists each group where it belongs: every name, own groups with their IdP group, the ones the source may not join', () => {
      const page = new GroupPageFiller(10_000);
      expect(page.add(group('Own'), 'own')).toBe(true);
      expect(page.add(group('Granted'), 'granted')).toBe(true);
      expect(page.add(group('Theirs'), 'refused')).toBe(true);
      expect(page).toMatchObject({
        groupNames: ['own', 'granted', 'theirs'],
        ownGroups: [{ name: 'Own', externalId: 'x-Own' }],
        groupsNotGrantable: ['theirs'],
      });
    });

    it('stops at the budget, and always takes the first group', () => {
      const page = new GroupPageFiller(200);
      let n = 0;
      for (const name of names('g', 100))
        if (page.add(group(name), 'own')) n++;
        else break;
      expect(n).toBeGreaterThan(0);
      expect(jsonBytes({ groupNames: page.groupNames, ownGroups: page.ownGroups, groupsNotGrantable: page.groupsNotGrantable })).toBeLessThanOrEqual(200 + 100);
      expect(new GroupPageFiller(10).add(group('a-long-name'), 'refused')).toBe(true);
    });
  });
});
