import { z } from 'zod';
import { DirectoryRpc } from '@bridgekeeper/contracts';
import { DirectoryUserState } from '@bridgekeeper/provisioning-model';
import { readDirectoryGroups, readDirectoryUsers, UserParts } from './directory-state.reader';

type Row = z.input<typeof DirectoryRpc.syncState.reply>['users'][number];
const row = (id: string, over: Partial<Row> = {}): z.output<typeof DirectoryRpc.syncState.reply>['users'][number] => ({
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
const strip = (u: DirectoryUserState) => ({ ...u, properties: { ...u.properties } });

describe("provisioning's reader of the directory's state pages", () => {
  it('joins a user cut across pages, in order, and hands on whole users only', () => {
    const parts = new UserParts();
    expect(parts.join([row('a'), row('b', { groups: ['g1', 'g2'], continued: true })]).map((u) => u.id)).toEqual(['a']);
    expect(parts.join([row('b', { groups: ['g3'], otherGroups: ['o1'], continued: true })])).toEqual([]);
    const [b, c] = parts.join([row('b', { properties: { k: 'v', m: ['1', '2'] } }), row('c')]);
    expect(strip(b)).toEqual(row('b', { groups: ['g1', 'g2', 'g3'], otherGroups: ['o1'], properties: { k: 'v', m: ['1', '2'] } }));
    expect(c.id).toBe('c');
    expect(() => parts.end()).not.toThrow();
  });

  it('leaves out a cut user whose rest never comes (deleted between the pages)', () => {
    const parts = new UserParts();
    expect(parts.join([row('a', { groups: ['g1'], continued: true })])).toEqual([]);
    expect(parts.join([row('b')]).map((u) => u.id)).toEqual(['b']);
  });

  it('refuses an answer that ends inside a user', () => {
    const parts = new UserParts();
    parts.join([row('a', { continued: true })]);
    expect(() => parts.end()).toThrow(/inside user a/);
  });

  it('keeps a property named like __proto__ as data when it joins parts', () => {
    const parts = new UserParts();
    parts.join([row('a', { properties: JSON.parse('{"__proto__":"x"}') as Record<string, string>, continued: true })]);
    const [a] = parts.join([row('a', { properties: { k: 'v' } })]);
    expect(Object.keys(a.properties)).toEqual(['__proto__', 'k']);
    expect(({} as Record<string, unknown>).k).toBeUndefined();
  });

  it('follows the cursors of both answers to the end, and asks for named users in chunks the contract takes', async () => {
    const asked: unknown[] = [];
    const directory = {
      syncGroups: async (req: { cursor?: string }) => {
        asked.push(['groups', req.cursor]);
        return req.cursor
          ? { groupNames: ['b'], ownGroups: [], groupsNotGrantable: ['b'], nextCursor: null }
          : { groupNames: ['a'], ownGroups: [{ name: 'A', externalId: 'x' }], groupsNotGrantable: [], nextCursor: '0192f3a4-5b6c-4d8e-9f01-23456789abcd' };
      },
      syncState: async (req: { cursor?: string; externalIds?: string[] }) => {
        asked.push(['state', req.cursor, req.externalIds?.length]);
        if (req.externalIds?.length === 0) return { users: [], activeUsers: 7, nextCursor: null };
        if (!req.cursor)
          return { users: [row(`u${req.externalIds?.length ?? 0}`, { continued: true })], activeUsers: req.externalIds ? 7 : undefined, nextCursor: 'c1' };
        return { users: [row(`u${req.externalIds?.length ?? 0}`)], nextCursor: null };
      },
    };
    expect(await readDirectoryGroups(directory as never, 'kc', [])).toEqual({
      names: new Set(['a', 'b']),
      own: [{ name: 'A', externalId: 'x' }],
      notGrantable: new Set(['b']),
    });
    const seen: string[] = [];
    expect(await readDirectoryUsers(directory as never, { source: 'kc' }, (users) => seen.push(...users.map((u) => u.id)))).toEqual({ activeUsers: undefined });
    expect(seen).toEqual(['u0']);
    asked.length = 0;
    const named = Array.from({ length: 2500 }, (_, i) => `kc-${i}`);
    expect(await readDirectoryUsers(directory as never, { source: 'kc', externalIds: named }, () => undefined)).toEqual({ activeUsers: 7 });
    expect(asked).toEqual([
      ['state', undefined, 2000],
      ['state', 'c1', 2000],
      ['state', undefined, 500],
      ['state', 'c1', 500],
    ]);
    // None named: one answer all the same (it carries the active-user count).
    asked.length = 0;
    expect(await readDirectoryUsers(directory as never, { source: 'kc', externalIds: [] }, () => undefined)).toEqual({ activeUsers: 7 });
    expect(asked).toEqual([['state', undefined, 0]]);
  });
});
