import { ImportWhileReading, MembershipAdd, Release } from './import-while-reading';
import { computeSyncPlan, DirectoryUserState, IdpSnapshot, IdpUser, SyncOptions, UserFields } from './sync-plan';

const opts: SyncOptions = { naming: 'path', requiredGroups: [], includeSubgroups: true, attributes: ['dept'], vanished: 'disable', stripGroupsOfVanished: false, maxRemovalShare: 0.1 };
const kc = (id: string, over: Partial<IdpUser> = {}): IdpUser => ({ id, username: id, email: `${id.toUpperCase()}@Example.com`, firstName: id, lastName: null, enabled: true, ...over });
const idp: IdpSnapshot = {
  users: [kc('a', { attributes: { dept: ['eng'] } }), kc('b', { enabled: false }), kc('c'), kc('d')],
  groups: [
    { id: 'g1', path: '/eng/backend' },
    { id: 'g2', path: '/staff' },
    { id: 'g3', path: '/empty' },
  ],
  members: new Map([
    ['g1', ['a', 'b']],
    ['g2', ['a', 'b', 'c', 'd']],
    ['g3', []],
  ]),
};
/** Plays the writer: the groups asked for are created at once, and what waited for them goes. */
const sent = (imp: ImportWhileReading, r: Release) => [...r.send, ...imp.groupsCreated(r.create)];
const byKey = (m: MembershipAdd[]) => m.map((x) => `${x.externalId}:${x.group}`).sort();
/** The directory after the writes made while reading: the users created, with the memberships added. */
const directoryAfter = (created: UserFields[], adds: MembershipAdd[]): DirectoryUserState[] =>
  created.map((f, i) => ({ id: `dir-${i}`, ...f, groups: adds.filter((m) => m.externalId === f.externalId).map((m) => m.group).sort() }));

describe('ImportWhileReading', () => {
  it('starts only for a directory holding none of the connector\'s users, with everyone in scope', () => {
    expect(ImportWhileReading.start(opts, 0, [])).not.toBeNull();
    expect(ImportWhileReading.start(opts, 1, [])).toBeNull();
    expect(ImportWhileReading.start({ ...opts, requiredGroups: ['/staff'] }, 0, [])).toBeNull();
  });

  it('creates, page by page, exactly the users the plan would create; members join once their group has arrived and their creation is applied', () => {
    const imp = ImportWhileReading.start(opts, 0, ['Staff'])!;
    const page1 = imp.users(idp.users.slice(0, 2));
    expect(imp.members(idp.groups[1], idp.members.get('g2')!)).toEqual({ send: [], create: [] }); // nobody's creation is applied yet
    const adds = sent(imp, imp.applied(page1.map((u) => u.externalId)));
    expect(byKey(adds)).toEqual(['a:staff']);
    const page2 = imp.users(idp.users.slice(2));
    adds.push(...sent(imp, imp.members(idp.groups[0], idp.members.get('g1')!))); // a is created: added now; b never is
    adds.push(...sent(imp, imp.applied(page2.map((u) => u.externalId))));
    adds.push(...sent(imp, imp.members(idp.groups[2], [])));
    const planned = computeSyncPlan(idp, [], new Set(['staff']), opts);
    expect([...page1, ...page2]).toEqual(planned.create);
    expect(byKey(adds)).toEqual(byKey(planned.addMemberships));
    expect(imp.counts).toMatchObject({ users: 3, active: 3, memberships: 4, groups: planned.groupsToCreate });
    // The plan after the read finds it all there: nothing left to write.
    const after = computeSyncPlan(idp, directoryAfter([...page1, ...page2], adds), new Set(['staff', 'eng/backend']), opts);
    expect(Object.values(after).every((v) => (Array.isArray(v) ? v.length === 0 : true))).toBe(true);
  });

  it('leaves to the plan a group whose name another path already took (leaf naming), and what was not applied in time', () => {
    const leaf = { ...opts, naming: 'leaf' as const };
    const twins: IdpSnapshot = { users: [kc('a'), kc('b')], groups: [{ id: 'x1', path: '/one/ops' }, { id: 'x2', path: '/two/ops' }], members: new Map([['x1', ['a']], ['x2', ['a', 'b']]]) };
    const imp = ImportWhileReading.start(leaf, 0, [])!;
    const created = imp.users(twins.users);
    const adds = [...sent(imp, imp.applied(['a'])), ...sent(imp, imp.members(twins.groups[0], ['a'])), ...sent(imp, imp.members(twins.groups[1], ['a', 'b']))];
    expect(byKey(adds)).toEqual(['a:ops']); // b's creation was never applied; /two/ops is left to the plan
    const after = computeSyncPlan(twins, directoryAfter(created, adds), new Set(['ops']), leaf);
    expect(byKey(after.addMemberships)).toEqual(['b:ops']);
    expect(after.create).toEqual([]);
  });

  it('asks for a new group once, and holds its memberships until it is created', () => {
    const imp = ImportWhileReading.start(opts, 0, [])!;
    imp.users(idp.users);
    imp.applied(['a', 'c', 'd']);
    expect(imp.members(idp.groups[1], ['a', 'c'])).toEqual({ send: [], create: ['staff'] });
    expect(imp.members(idp.groups[0], ['a'])).toEqual({ send: [], create: ['eng/backend'] });
    expect(imp.applied(['x'])).toEqual({ send: [], create: [] });
    expect(byKey(imp.groupsCreated(['staff']))).toEqual(['a:staff', 'c:staff']);
    expect(imp.members({ id: 'g4', path: '/staff' }, ['d'])).toEqual({ send: [{ externalId: 'd', group: 'staff' }], create: [] }); // same path, list read again
    expect(byKey(imp.groupsCreated(['eng/backend']))).toEqual(['a:eng/backend']);
    expect(imp.counts).toMatchObject({ memberships: 4, groups: ['staff', 'eng/backend'] });
  });

  it('creates the users disabled in the IdP too when vanished users are kept, as the plan would', () => {
    const keep = { ...opts, vanished: 'keep' as const };
    const created = ImportWhileReading.start(keep, 0, [])!.users(idp.users);
    expect(created).toEqual(computeSyncPlan(idp, [], new Set(), keep).create);
    expect(created).toHaveLength(4);
  });
});
