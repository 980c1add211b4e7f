import {
  BulkItem,
  BulkRefused,
  BulkUserInput,
  bulkAnswer,
  newNameLookalikes,
  ownAccount,
  planUpserts,
  propertyChanges,
  propertyOwners,
  refuseItems,
  screenItems,
  UpsertFacts,
  ValueScreen,
} from './bulk-users';
import { newUserRecord, UserRecord } from './change-set';
import { NameIndex } from './names';

const now = new Date('2026-12-05T09:00:00Z');
let seq = 0;
const user = (username: string, over: Partial<UserRecord> = {}): UserRecord => newUserRecord({ id: `u-${++seq}`, username, source: 'local', ...over }, now);
const items = (...input: BulkUserInput[]): BulkItem[] => input.map((u, index) => ({ ...u, index }));

/** What refuses an admin's request: the status and message the service turns into a 400 or 409. */
function refusal(run: () => unknown): { status: string; message: string } | undefined {
  try {
    run();
  } catch (err) {
    if (err instanceof BulkRefused) return { status: err.status, message: err.message };
    throw err;
  }
  return undefined;
}

/** The upserts' facts as the service reads them: every account by IdP id, name, email and lookalike keys. */
function plan(list: BulkItem[], accounts: UserRecord[], over: Partial<UpsertFacts<BulkItem>> = {}) {
  const byKey = new NameIndex<UserRecord>();
  for (const u of accounts) byKey.add(u, u.usernameSkeleton, u.usernameSkeletonShown);
  const ownOf = ownAccount(new Map(accounts.filter((u) => u.externalId).map((u) => [`${u.source}\u0000${u.externalId}`, u])));
  const byUsername = new Map(accounts.map((u) => [u.usernameLower, u]));
  const named = newNameLookalikes(list, (i) => ownOf(i) || byUsername.get(i.username.toLowerCase()), over.collect ?? false);
  let ids = 0;
  return planUpserts({
    items: named.items,
    ownOf,
    byUsername,
    keys: named.keys,
    byKey,
    byEmail: new Map(accounts.filter((u) => u.emailLower).map((u) => [u.emailLower!, u])),
    collect: false,
    now,
    newId: () => `new-${++ids}`,
    ...over,
  });
}

describe('screenItems: each item by the name rules, and the request as a whole', () => {
  it('fails an admin’s request at the first name that breaks the rules, naming the item', () => {
    expect(refusal(() => screenItems([{ username: 'ann' }, { username: 'b\u200bob' }], { collect: false, distinctEmails: true }))).toEqual({
      status: 'invalid',
      message: expect.stringMatching(/^users\.1\.username: contains U\+200B/),
    });
    expect(refusal(() => screenItems([{ username: 'ann', email: 'ann\u200b@example.org' }], { collect: false, distinctEmails: true }))).toEqual({
      status: 'invalid',
      message: expect.stringMatching(/^users\.0\.email: /),
    });
  });

  it('leaves out and lists (User Sync) an item whose name breaks the rules, and the values it cannot store, alone', () => {
    const screen: ValueScreen = (displayName, properties) => ({
      displayName: displayName === 'bad' ? undefined : displayName,
      properties,
      refused: displayName === 'bad' ? [{ field: 'displayName', reason: 'contains NUL' }] : [],
    });
    const out = screenItems([{ username: 'ｆred', externalId: 'x1' }, { username: 'ann', externalId: 'x2', displayName: 'bad' }, { username: 'bob' }], {
      collect: true,
      screen,
      distinctEmails: false,
    });
    expect(out.accepted.map((i) => [i.index, i.username, i.displayName])).toEqual([
      [1, 'ann', undefined],
      [2, 'bob', undefined],
    ]);
    expect(out.refused).toEqual([
      { kind: 'user', name: 'ｆred', externalId: 'x1', reason: expect.stringMatching(/^username: contains U\+FF46, a compatibility form/) },
      { kind: 'value', name: 'displayName', externalId: 'x2', reason: 'displayName: contains NUL; left out' },
    ]);
  });

  it('stores names in NFC, so a decomposed é and a composed é are the same name twice (any case): the request fails, whoever sends it', () => {
    const out = screenItems([{ username: 'Jose\u0301' }], { collect: false, distinctEmails: true });
    expect(out.accepted[0].username).toBe('Jos\u00e9');
    for (const collect of [false, true]) {
      expect(refusal(() => screenItems([{ username: 'jos\u00e9' }, { username: 'JOSE\u0301' }], { collect, distinctEmails: false }))).toEqual({
        status: 'invalid',
        message: 'users.1.username: appears twice in the request',
      });
    }
  });

  it('fails an admin’s request with one address twice (naming both items); User Sync settles addresses with its identities', () => {
    const twice = [{ username: 'a', email: 'x@example.org' }, { username: 'b' }, { username: 'c', email: 'X@Example.org' }];
    expect(refusal(() => screenItems(twice, { collect: false, distinctEmails: true }))).toEqual({
      status: 'invalid',
      message: 'users.2.email: the same address as users.0.email',
    });
    expect(screenItems(twice, { collect: true, distinctEmails: false }).emails).toEqual([]);
    expect(
      screenItems(
        [
          { username: 'a', email: 'X@Example.org' },
          { username: 'b', email: null },
        ],
        { collect: false, distinctEmails: true },
      ).emails,
    ).toEqual(['x@example.org']);
  });

  it('refuseItems: the first fails an admin’s request, User Sync lists each', () => {
    const refused = [{ item: { index: 3, username: 'x', externalId: 'e' }, reason: 'username: no' }];
    expect(refusal(() => refuseItems(refused, false, 'conflict'))).toEqual({ status: 'conflict', message: 'users.3.username: no' });
    expect(refuseItems(refused, true, 'conflict')).toEqual([{ kind: 'user', name: 'x', externalId: 'e', reason: 'username: no' }]);
  });
});

describe('newNameLookalikes: a new name may not look like another new name of the request', () => {
  it('refuses the later of two new names that look alike (Cyrillic а, digits for letters), keys only new names', () => {
    const kept = user('carol');
    const list = items({ username: 'alice' }, { username: 'аlice' }, { username: 'bill' }, { username: 'bi11' }, { username: 'carol' });
    const out = newNameLookalikes(list, (i) => (i.username === 'carol' ? kept : undefined), true);
    expect(out.items.map((i) => i.username)).toEqual(['alice', 'bill', 'carol']);
    expect(out.refused.map((r) => r.reason)).toEqual([
      expect.stringContaining('looks like users.0.username'),
      expect.stringContaining('looks like users.2.username'),
    ]);
    expect([...out.keys.keys()].map((i) => i.username)).toEqual(['alice', 'bill']);
    expect(refusal(() => newNameLookalikes(list, () => undefined, false))).toEqual({
      status: 'conflict',
      message: expect.stringMatching(/^users\.1\.username: .* in the same request \(Unicode TR 39 confusable\)$/),
    });
  });

  it('keys a change of case: it changes how a name looks', () => {
    const out = newNameLookalikes(items({ username: 'ANN' }), () => user('ann'), false);
    expect(out.keys.size).toBe(1);
  });
});

describe('planUpserts: who is created, updated or left alone, and what refuses an item', () => {
  it('creates a new user with the defaults, and updates an existing one only in the fields the item names', () => {
    const ann = user('ann', { email: 'ann@example.org', displayName: 'Ann', active: false });
    const p = plan(items({ username: 'ann', displayName: 'Ann B' }, { username: 'new', source: 'kc', externalId: 's-1' }), [ann]);
    expect(p.results).toEqual([
      { index: 0, id: ann.id, status: 'updated' },
      { index: 1, id: 'new-1', status: 'created' },
    ]);
    // Updates first: a create may take a name or an address an update leaves.
    expect(p.changes.map((c) => c.kind)).toEqual(['user.update', 'user.create']);
    expect(p.changes[0]).toMatchObject({
      set: { username: 'ann', email: 'ann@example.org', displayName: 'Ann B', active: false, source: 'local', externalId: null },
    });
    expect(p.changes[1]).toMatchObject({
      user: { id: 'new-1', username: 'new', source: 'kc', externalId: 's-1', active: true, protected: false, email: null, createdAt: now },
    });
  });

  it('writes nothing for an item that changes nothing, and audits enabling as a change of its own', () => {
    const ann = user('ann', { active: false });
    expect(plan(items({ username: 'ann' }), [ann])).toMatchObject({ changes: [], results: [{ status: 'unchanged' }] });
    expect(plan(items({ username: 'ann', active: true }), [ann]).changes).toEqual([
      { kind: 'user.update', user: ann, set: expect.objectContaining({ active: true }) },
    ]);
  });

  it('finds an item’s own account by its IdP id first (a rename), not the account holding its name', () => {
    const own = user('ann', { source: 'kc', externalId: 's-1' });
    const p = plan(items({ username: 'anna', source: 'kc', externalId: 's-1' }), [own]);
    expect(p.changes).toEqual([{ kind: 'user.update', user: own, set: expect.objectContaining({ username: 'anna' }) }]);
    // Its own old name is no lookalike of the new one.
    expect(plan(items({ username: 'ANN', source: 'kc', externalId: 's-1' }), [own]).results).toEqual([{ index: 0, id: own.id, status: 'updated' }]);
  });

  it('refuses a new name that looks like another user’s: the admin’s request fails (409), User Sync leaves the item out', () => {
    const alice = user('alice');
    expect(refusal(() => plan(items({ username: 'аlice' }), [alice]))).toEqual({
      status: 'conflict',
      message: expect.stringMatching(/^users\.0\.username: .*looks like the existing user/),
    });
    const p = plan(items({ username: 'bob' }, { username: 'аlice', externalId: 'e1' }), [alice], { collect: true });
    expect(p.refused).toEqual([{ kind: 'user', name: 'аlice', externalId: 'e1', reason: expect.stringContaining('looks like the existing user') }]);
    expect(p.results.map((r) => r.index)).toEqual([0]);
  });

  it('fails the request on an address another user holds', () => {
    expect(refusal(() => plan(items({ username: 'bob', email: 'ANN@example.org' }), [user('ann', { email: 'ann@example.org' })]))).toEqual({
      status: 'conflict',
      message: 'users.0.email: already used by another user',
    });
    // The user's own address is no conflict.
    expect(plan(items({ username: 'ann', email: 'ANN@example.org' }), [user('ann', { email: 'ann@example.org' })]).results[0].status).toBe('updated');
  });

  it('User Sync uses an account found by name only if the connector may: never another source’s, a protected or an unclaimable local one', () => {
    const kc = { source: 'kc', claimLocalUsers: false };
    const cases: [UserRecord, string][] = [
      [user('bob', { source: 'other', externalId: 'o-1' }), 'users.0.username: bob belongs to another source (other); it is not taken over'],
      [user('bob', { protected: true }), 'users.0.username: bob is a protected account: no IdP or connector may use it'],
      [user('bob'), 'users.0.username: bob is a local account, and this IdP may not claim local accounts (claimLocalUsers is off)'],
      [user('bob', { externalId: 'l-1' }), 'users.0.username: bob is a local account linked to an identity already; it is not taken over'],
    ];
    for (const [account, message] of cases)
      expect(refusal(() => plan(items({ username: 'bob', source: 'kc', externalId: 's-9' }), [account], { asSource: kc }))).toEqual({
        status: 'conflict',
        message,
      });
    const claimable = plan(items({ username: 'bob', source: 'kc', externalId: 's-9' }), [user('bob')], { asSource: { source: 'kc', claimLocalUsers: true } });
    expect(claimable.changes).toEqual([expect.objectContaining({ kind: 'user.update', set: expect.objectContaining({ source: 'kc', externalId: 's-9' }) })]);
  });

  it('an admin’s bulk links an account, but never one linked to another source’s identity, nor re-sources a protected one', () => {
    expect(refusal(() => plan(items({ username: 'bob', source: 'kc', externalId: 's-1' }), [user('bob', { source: 'other', externalId: 'o-1' })]))).toEqual({
      status: 'conflict',
      message: 'users.0.username: bob belongs to another account (source other)',
    });
    expect(refusal(() => plan(items({ username: 'root', source: 'kc' }), [user('root', { protected: true })]))).toEqual({
      status: 'conflict',
      message: 'users.0.username: root is a protected account; it is not linked to kc',
    });
    // Fields left out keep the account's: the same source and identity, no conflict.
    expect(plan(items({ username: 'bob', displayName: 'B' }), [user('bob', { source: 'other', externalId: 'o-1' })]).results[0].status).toBe('updated');
  });
});

describe('properties and the answer', () => {
  const written: { item: BulkItem; id: string; created: boolean }[] = [
    { item: { index: 0, username: 'a', properties: { team: ['x', 'y'], room: '1' }, removeProperties: ['old', 'room', 'gone'] }, id: 'u-a', created: false },
    { item: { index: 1, username: 'b', properties: { team: 'z' } }, id: 'u-b', created: true },
    { item: { index: 2, username: 'c' }, id: 'u-c', created: false },
  ];

  it('reads only existing users that set or remove a property', () => {
    expect(propertyOwners(written)).toEqual(['u-a']);
  });

  it('writes only values that differ (a list in another order is the same), removes only what exists, never a key it also sets', () => {
    const changes = propertyChanges(written, [
      { userId: 'u-a', key: 'team', value: ['y', 'x'] },
      { userId: 'u-a', key: 'room', value: '2' },
      { userId: 'u-a', key: 'old', value: 'v' },
    ]);
    expect(changes).toEqual([
      { kind: 'property.set', userId: 'u-a', key: 'room', value: '1', before: '2' },
      { kind: 'property.set', userId: 'u-b', key: 'team', value: 'z', before: undefined },
      { kind: 'property.remove', userId: 'u-a', key: 'old', before: 'v' },
    ]);
  });

  it('counts the answer by status', () => {
    expect(
      bulkAnswer([
        { index: 0, id: 'a', status: 'created' },
        { index: 1, id: 'b', status: 'unchanged' },
        { index: 2, id: 'c', status: 'created' },
      ]),
    ).toEqual({ created: 2, updated: 0, unchanged: 1, users: expect.any(Array) });
  });

  it('finds an item’s own account under its source, local when it names none', () => {
    const mine = user('ann', { externalId: 'e1' });
    const ownOf = ownAccount(new Map([[`local\u0000e1`, mine]]));
    expect(ownOf({ externalId: 'e1' })).toBe(mine);
    expect(ownOf({ externalId: 'e1', source: 'kc' })).toBeUndefined();
    expect(ownOf({ externalId: null })).toBeUndefined();
  });
});
