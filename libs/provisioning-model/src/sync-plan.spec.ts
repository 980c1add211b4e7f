import {
  assessSyncPlan,
  computeSyncPlan,
  SyncPlanner,
  DirectoryUserState,
  IdpSnapshot,
  IdpUser,
  isEmptyPlan,
  orderRenames,
  planCounts,
  SyncOptions,
  usersInScope,
} from './sync-plan';

const opts: SyncOptions = {
  naming: 'path',
  requiredGroups: [],
  includeSubgroups: true,
  attributes: [],
  vanished: 'disable',
  stripGroupsOfVanished: false,
  maxRemovalShare: 0.1,
};
const kc = (id: string, over: Partial<IdpUser> = {}): IdpUser => ({
  id,
  username: id,
  email: `${id}@example.com`,
  firstName: id.toUpperCase(),
  lastName: null,
  enabled: true,
  ...over,
});
const dir = (externalId: string, over: Partial<DirectoryUserState> = {}): DirectoryUserState => ({
  id: `dir-${externalId}`,
  externalId,
  username: externalId,
  email: `${externalId}@example.com`,
  displayName: externalId.toUpperCase(),
  active: true,
  groups: [],
  properties: {},
  ...over,
});
const snapshot = (users: IdpUser[], groups: [string, string, string[]][] = []): IdpSnapshot => ({
  users,
  groups: groups.map(([id, path]) => ({ id, path })),
  members: new Map(groups.map(([id, , members]) => [id, members])),
});

describe('computeSyncPlan', () => {
  it('creates new users with their groups, and the groups that do not exist yet', () => {
    const plan = computeSyncPlan(
      snapshot(
        [kc('a'), kc('b')],
        [
          ['g1', '/eng/backend', ['a']],
          ['g2', '/staff', ['a', 'b']],
        ],
      ),
      [],
      new Set(['staff']),
      opts,
    );
    expect(plan.create.map((u) => u.username)).toEqual(['a', 'b']);
    expect(plan.create[0]).toEqual({ externalId: 'a', username: 'a', email: 'a@example.com', displayName: 'A', active: true, properties: {} });
    expect(plan.addMemberships).toEqual([
      { externalId: 'a', group: 'eng/backend' },
      { externalId: 'a', group: 'staff' },
      { externalId: 'b', group: 'staff' },
    ]);
    expect(plan.groupsToCreate).toEqual([{ name: 'eng/backend', externalId: 'g1' }]);
    expect(plan.seatsDelta).toBe(2);
  });

  it('keeps the members of a group whose name changed only in letter case (names are case-insensitive)', () => {
    const idp = snapshot([kc('a')], [['g', '/Staff', ['a']]]);
    const plan = computeSyncPlan(idp, [dir('a', { groups: ['staff'] })], new Set(['staff']), opts);
    expect(plan.removeMemberships).toEqual([]);
    expect(plan.addMemberships).toEqual([]);
    expect(plan.groupsToCreate).toEqual([]);
  });

  it('changes nothing when the directory already matches', () => {
    const idp = snapshot([kc('a')], [['g', '/staff', ['a']]]);
    const plan = computeSyncPlan(idp, [dir('a', { groups: ['staff'] })], new Set(['staff']), opts);
    expect(isEmptyPlan(plan)).toBe(true);
  });

  it('updates a renamed user field by field, keyed on the immutable id', () => {
    const plan = computeSyncPlan(snapshot([kc('a', { username: 'alice.new', email: 'New@Example.com' })]), [dir('a')], new Set(), opts);
    expect(plan.create).toEqual([]);
    expect(plan.update).toEqual([
      expect.objectContaining({
        id: 'dir-a',
        changes: [
          { field: 'username', before: 'a', after: 'alice.new' },
          { field: 'email', before: 'a@example.com', after: 'new@example.com' },
        ],
      }),
    ]);
  });

  it('moves memberships between managed groups', () => {
    const idp = snapshot(
      [kc('a')],
      [
        ['g1', '/eng/frontend', ['a']],
        ['g2', '/eng/backend', []],
      ],
    );
    const plan = computeSyncPlan(idp, [dir('a', { groups: ['eng/backend'] })], new Set(['eng/backend', 'eng/frontend']), opts);
    expect(plan.addMemberships).toEqual([{ externalId: 'a', group: 'eng/frontend' }]);
    expect(plan.removeMemberships).toEqual([{ externalId: 'a', group: 'eng/backend' }]);
  });

  it('joins no group the connector may not (another source’s, a local one not granted), and lists what it refused', () => {
    const idp = snapshot(
      [kc('a'), kc('new')],
      [
        ['g1', '/jira-admins', ['a', 'new']],
        ['g2', '/staff', ['a', 'new']],
        ['g3', '/Other-Team', ['new']],
      ],
    );
    const existing = new Set(['jira-admins', 'staff', 'other-team']);
    const notGrantable = new Set(['jira-admins', 'other-team']);
    const plan = computeSyncPlan(idp, [dir('a', { groups: ['staff'] })], existing, opts, notGrantable);
    expect(plan.addMemberships).toEqual([{ externalId: 'new', group: 'staff' }]);
    expect(plan.groupsRefused).toEqual(['Other-Team', 'jira-admins']);
    expect(plan.groupsToCreate).toEqual([]);
    // Nothing refused: none listed.
    expect(computeSyncPlan(idp, [dir('a', { groups: ['staff'] })], existing, opts).groupsRefused).toEqual([]);
  });

  it('joins a group of another source once, by name in any case, and never leaves it', () => {
    const idp = snapshot([kc('a'), kc('b')], [['g1', '/jira-users', ['a', 'b']]]);
    const existing = new Set(['jira-users']);
    // a is already in the local group "Jira-Users"; b is not yet.
    const directory = [dir('a', { otherGroups: ['Jira-Users'] }), dir('b')];
    expect(computeSyncPlan(idp, directory, existing, opts).addMemberships).toEqual([{ externalId: 'b', group: 'jira-users' }]);
    // Out of the IdP group: the other source's group is not this connector's to leave.
    const left = computeSyncPlan(snapshot([kc('a')]), [dir('a', { otherGroups: ['Jira-Users'] })], existing, { ...opts, stripGroupsOfVanished: true });
    expect(isEmptyPlan(left)).toBe(true);
  });

  it('disables users gone from the IdP or disabled there, and re-enables returning ones', () => {
    const plan = computeSyncPlan(snapshot([kc('a', { enabled: false }), kc('c')]), [dir('a'), dir('b'), dir('c', { active: false })], new Set(), opts);
    expect(plan.disable).toEqual([
      { id: 'dir-a', username: 'a', reason: 'disabled-in-idp' },
      { id: 'dir-b', username: 'b', reason: 'gone' },
    ]);
    expect(plan.enable).toEqual([{ id: 'dir-c', username: 'c' }]);
    expect(plan.seatsDelta).toBe(-1);
  });

  it('deletes or keeps vanished users as configured, and can strip their groups', () => {
    const directory = [dir('b', { groups: ['staff'] })];
    expect(computeSyncPlan(snapshot([]), directory, new Set(), { ...opts, vanished: 'delete' }).delete).toEqual([{ id: 'dir-b', username: 'b', active: true }]);
    expect(isEmptyPlan(computeSyncPlan(snapshot([]), directory, new Set(), { ...opts, vanished: 'keep' }))).toBe(true);
    const stripped = computeSyncPlan(snapshot([]), directory, new Set(), { ...opts, stripGroupsOfVanished: true });
    expect(stripped.removeMemberships).toEqual([{ externalId: 'b', group: 'staff' }]);
  });

  it('does not create users who are disabled in the IdP', () => {
    expect(computeSyncPlan(snapshot([kc('x', { enabled: false })]), [], new Set(), opts).create).toEqual([]);
  });

  it('syncs only members of the required groups, with or without subgroups', () => {
    const idp = snapshot(
      [kc('a'), kc('b'), kc('c')],
      [
        ['g1', '/eng', ['a']],
        ['g2', '/eng/backend', ['b']],
        ['g3', '/staff', ['c']],
      ],
    );
    expect([...usersInScope(idp, { requiredGroups: ['eng'], includeSubgroups: true })].sort()).toEqual(['a', 'b']);
    expect([...usersInScope(idp, { requiredGroups: ['/eng'], includeSubgroups: false })]).toEqual(['a']);
    const plan = computeSyncPlan(idp, [dir('c')], new Set(), { ...opts, requiredGroups: ['/eng'], maxRemovalShare: 1 });
    expect(plan.create.map((u) => u.username)).toEqual(['a', 'b']);
    expect(plan.disable).toEqual([{ id: 'dir-c', username: 'c', reason: 'out-of-scope' }]);
  });

  it('names groups by leaf when configured', () => {
    const plan = computeSyncPlan(snapshot([kc('a')], [['g', '/eng/backend', ['a']]]), [], new Set(), { ...opts, naming: 'leaf' });
    expect(plan.addMemberships).toEqual([{ externalId: 'a', group: 'backend' }]);
  });

  it('copies configured attributes to properties, and updates them', () => {
    const idp = snapshot([kc('a', { attributes: { department: ['R&D'], secret: ['x'] } })]);
    const plan = computeSyncPlan(idp, [dir('a', { properties: { department: 'Sales' } })], new Set(), { ...opts, attributes: ['department'] });
    expect(plan.update[0].changes).toEqual([{ field: 'properties.department', before: 'Sales', after: 'R&D' }]);
    expect(plan.update[0].fields.properties).toEqual({ department: 'R&D' });
  });

  describe('properties (the connector owns the keys of its `attributes`)', () => {
    const withDept = { ...opts, attributes: ['department', 'roles'] };

    it('removes an owned property the IdP no longer has, and leaves the keys it does not own', () => {
      const idp = snapshot([kc('a', { attributes: {} })]);
      const plan = computeSyncPlan(idp, [dir('a', { properties: { department: 'Sales', roles: ['x', 'y'], badge: '42' } })], new Set(), withDept);
      expect(plan.update[0].changes).toEqual([
        { field: 'properties.department', before: 'Sales', after: null },
        { field: 'properties.roles', before: ['x', 'y'], after: null },
      ]);
      expect(plan.update[0].fields.properties).toEqual({});
      expect(plan.update[0].fields.removeProperties).toEqual(['department', 'roles']);
    });

    it('removes an owned property whose values are all gone (empty or blank)', () => {
      const plan = computeSyncPlan(
        snapshot([kc('a', { attributes: { department: [], roles: ['', '  '] } })]),
        [dir('a', { properties: { department: 'Sales', roles: 'x' } })],
        new Set(),
        withDept,
      );
      expect(plan.update[0].fields.removeProperties).toEqual(['department', 'roles']);
    });

    it('removes nothing when the IdP read no attributes at all (a brief read)', () => {
      const plan = computeSyncPlan(snapshot([kc('a')]), [dir('a', { properties: { department: 'Sales' } })], new Set(), withDept);
      expect(plan.update).toEqual([]);
    });

    it('leaves a key the connector no longer syncs (its attributes shrank)', () => {
      const plan = computeSyncPlan(snapshot([kc('a', { attributes: {} })]), [dir('a', { properties: { department: 'Sales', roles: 'x' } })], new Set(), {
        ...opts,
        attributes: ['roles'],
      });
      expect(plan.update[0].changes).toEqual([{ field: 'properties.roles', before: 'x', after: null }]);
      expect(plan.update[0].fields.removeProperties).toEqual(['roles']);
    });

    it('keeps every value of a multi-valued attribute, in the IdP order, without repeats; one value stays a plain string', () => {
      const idp = snapshot([kc('a', { attributes: { roles: ['dev', 'ops', 'dev', ''], department: ['R&D'] } })]);
      const plan = computeSyncPlan(idp, [], new Set(), withDept);
      expect(plan.create[0].properties).toEqual({ department: 'R&D', roles: ['dev', 'ops'] });
      expect(plan.create[0]).not.toHaveProperty('removeProperties');
    });

    it('sees no change when the values are the same in another order, and a change when one is added', () => {
      const same = computeSyncPlan(
        snapshot([kc('a', { attributes: { roles: ['ops', 'dev'], department: ['R&D'] } })]),
        [dir('a', { properties: { roles: ['dev', 'ops'], department: 'R&D' } })],
        new Set(),
        withDept,
      );
      expect(isEmptyPlan(same)).toBe(true);
      const more = computeSyncPlan(
        snapshot([kc('a', { attributes: { roles: ['dev', 'ops', 'qa'], department: ['R&D'] } })]),
        [dir('a', { properties: { roles: ['dev', 'ops'], department: 'R&D' } })],
        new Set(),
        withDept,
      );
      expect(more.update[0].changes).toEqual([{ field: 'properties.roles', before: ['dev', 'ops'], after: ['dev', 'ops', 'qa'] }]);
    });

    it('changes a list that lost all values but one into a plain string', () => {
      const plan = computeSyncPlan(
        snapshot([kc('a', { attributes: { roles: ['dev'] } })]),
        [dir('a', { properties: { roles: ['dev', 'ops'] } })],
        new Set(),
        withDept,
      );
      expect(plan.update[0].changes).toEqual([{ field: 'properties.roles', before: ['dev', 'ops'], after: 'dev' }]);
    });
  });

  it('counts what it would do', () => {
    const plan = computeSyncPlan(snapshot([kc('a')], [['g', '/x', ['a']]]), [dir('b')], new Set(), opts);
    expect(planCounts(plan)).toEqual({
      usersCreated: 1,
      usersUpdated: 0,
      usersDisabled: 1,
      usersEnabled: 0,
      usersDeleted: 0,
      groupsCreated: 1,
      groupsRenamed: 0,
      groupsLinked: 0,
      membershipsAdded: 1,
      membershipsRemoved: 0,
    });
  });
});

describe('SyncPlanner', () => {
  const idp = snapshot(
    [kc('a', { username: 'a.new' }), kc('b', { enabled: false }), kc('c'), kc('new'), kc('outside')],
    [
      ['g1', '/staff', ['a', 'b', 'c', 'new']],
      ['g2', '/eng', ['c', 'new']],
      ['g3', '/other', ['outside']],
    ],
  );
  const directory = [
    dir('a', { groups: ['eng'] }),
    dir('b', { groups: ['staff'] }),
    dir('c', { groups: ['eng', 'staff'], active: false }),
    dir('gone'),
    dir('outside'),
    { ...dir('local'), externalId: null },
  ];
  const scoped = { ...opts, requiredGroups: ['/staff', '/eng'], stripGroupsOfVanished: true, maxRemovalShare: 1 };

  it('folds the directory in page by page into the plan computed in one call', () => {
    const planner = new SyncPlanner(idp, scoped);
    for (const d of directory) planner.add([d]);
    const paged = planner.finish(new Set(['staff']));
    expect(paged).toEqual(computeSyncPlan(idp, directory, new Set(['staff']), scoped));
    expect(paged.create.map((u) => u.externalId)).toEqual(['new']);
    expect(paged.update.map((u) => u.externalId)).toEqual(['a']);
    expect(paged.enable).toEqual([{ id: 'dir-c', username: 'c' }]);
    expect(paged.disable).toEqual([
      { id: 'dir-b', username: 'b', reason: 'disabled-in-idp' },
      { id: 'dir-gone', username: 'gone', reason: 'gone' },
      { id: 'dir-outside', username: 'outside', reason: 'out-of-scope' },
    ]);
    expect(paged.addMemberships).toEqual([
      { externalId: 'a', group: 'staff' },
      { externalId: 'new', group: 'eng' },
      { externalId: 'new', group: 'staff' },
    ]);
    expect(paged.removeMemberships).toEqual([
      { externalId: 'a', group: 'eng' },
      { externalId: 'b', group: 'staff' },
    ]);
    expect(paged.groupsToCreate).toEqual([{ name: 'eng', externalId: 'g2' }]);
  });

  it("counts the directory's users and active users over all pages, for the safety rule", () => {
    const planner = new SyncPlanner(idp, scoped);
    planner.add(directory.slice(0, 3));
    planner.add(directory.slice(3));
    expect(planner.directory).toEqual({ users: 6, activeUsers: 5 });
    expect(planner.idpUsers).toBe(5);
  });
});

describe('assessSyncPlan', () => {
  const directory = Array.from({ length: 100 }, (_, i) => dir(`u${i}`));
  const idpWith = (n: number) => snapshot(directory.slice(0, n).map((d) => kc(d.externalId!)));
  const full = (idp: IdpSnapshot) => ({ idpUsers: idp.users.length, activeUsers: directory.length });

  it('applies a plan within the allowed share of removals', () => {
    const idp = idpWith(90);
    expect(assessSyncPlan(computeSyncPlan(idp, directory, new Set(), opts), full(idp), opts)).toEqual({ hold: false });
  });

  it('holds a plan that would disable more than the allowed share', () => {
    const idp = idpWith(89);
    expect(assessSyncPlan(computeSyncPlan(idp, directory, new Set(), opts), full(idp), opts)).toEqual({
      hold: true,
      reason: 'the run would disable or delete 11 of 100 active users (11%), more than the allowed 10%',
    });
  });

  it('holds an empty IdP answer whatever the share', () => {
    const idp = snapshot([]);
    expect(assessSyncPlan(computeSyncPlan(idp, directory, new Set(), opts), full(idp), { maxRemovalShare: 1 })).toMatchObject({
      hold: true,
      reason: expect.stringContaining('no users'),
    });
  });

  it("measures a changes run's removals against all the connector's active users, not the few it read", () => {
    // Five named users, all gone from the IdP: 5 of 100 active is within 10%; 11 of 100 is not.
    const named = (n: number) => directory.slice(0, n);
    const quiet = snapshot([]);
    expect(assessSyncPlan(computeSyncPlan(quiet, named(5), new Set(), opts), { idpUsers: 0, activeUsers: 100, partial: true }, opts)).toEqual({ hold: false });
    expect(assessSyncPlan(computeSyncPlan(quiet, named(11), new Set(), opts), { idpUsers: 0, activeUsers: 100, partial: true }, opts)).toMatchObject({
      hold: true,
      reason: expect.stringContaining('11 of 100'),
    });
  });

  it("counts only the active users a plan removes against the active users (deleting inactive ones takes nobody's access)", () => {
    // 100 active and 50 inactive users; the IdP lost the 50 inactive ones and 10 active ones.
    const inactive = Array.from({ length: 50 }, (_, i) => dir(`x${i}`, { active: false }));
    const idp = idpWith(90);
    const plan = computeSyncPlan(idp, [...directory, ...inactive], new Set(), { ...opts, vanished: 'delete' });
    expect(plan.delete).toHaveLength(60);
    expect(assessSyncPlan(plan, full(idp), opts)).toEqual({ hold: false });
    const more = computeSyncPlan(idpWith(80), [...directory, ...inactive], new Set(), { ...opts, vanished: 'delete' });
    expect(assessSyncPlan(more, full(idpWith(80)), opts)).toEqual({
      hold: true,
      reason: 'the run would disable or delete 20 of 100 active users (20%), more than the allowed 10%',
    });
  });
});

describe('renames in one plan', () => {
  const renamesOf = (plan: ReturnType<typeof computeSyncPlan>) =>
    plan.update.map((u) => `${u.changes.find((c) => c.field === 'username')?.before ?? '-'}>${u.username}`);

  it('orders a chain so each rename comes after the one that frees its name, before other updates', () => {
    // a: x→y, b: y→z, c: only its email; and a new user takes x.
    const idp = snapshot([kc('a', { username: 'y' }), kc('b', { username: 'z' }), kc('c', { email: 'c2@example.com' }), kc('new', { username: 'x' })]);
    const plan = computeSyncPlan(idp, [dir('c'), dir('a', { username: 'x', email: 'a@example.com' }), dir('b', { username: 'y' })], new Set(), opts);
    expect(renamesOf(plan)).toEqual(['y>z', 'x>y', '->c']);
    expect(plan.create.map((u) => [u.externalId, u.username])).toEqual([['new', 'x']]);
  });

  it('keeps the members of a swap together, and a case-only change is no rename', () => {
    const idp = snapshot([kc('a', { username: 'q' }), kc('b', { username: 'p' }), kc('c', { username: 'C' }), kc('d', { username: 'r' })]);
    const plan = computeSyncPlan(
      idp,
      [dir('c', { username: 'c' }), dir('a', { username: 'p' }), dir('d', { username: 's' }), dir('b', { username: 'q' })],
      new Set(),
      opts,
    );
    expect(renamesOf(plan)).toEqual(['q>p', 'p>q', 's>r', 'c>C']);
  });

  it('orderRenames leaves a plan without renames as it is', () => {
    const update = [{ changes: [{ field: 'email', before: 'a', after: 'b' }] }];
    expect(orderRenames(update)).toBe(update);
  });
});

describe('groups are the IdP group, not its name', () => {
  const own = (name: string, externalId: string | null) => ({ name, externalId });

  it("names the IdP group of each membership's group, so the directory finds the connector's group whatever its name", () => {
    const idp = snapshot(
      [kc('a'), kc('b')],
      [
        ['g1', '/renamed', ['b']],
        ['g2', '/new', ['a']],
      ],
    );
    const plan = computeSyncPlan(idp, [dir('a', { groups: ['old'] }), dir('b')], new Set(['old']), opts, undefined, [own('old', 'g1')]);
    expect(plan.groupIdentities.sort((x, y) => x.group.localeCompare(y.group))).toEqual([
      { group: 'new', externalId: 'g2' },
      { group: 'renamed', externalId: 'g1' },
    ]);
  });

  it('takes Keycloak group names in NFC, as the directory stores them: no rename of a group named in NFD', () => {
    const idp = snapshot([kc('a')], [['g1', '/cafe\u0301', ['a']]]);
    const plan = computeSyncPlan(idp, [dir('a', { groups: ['caf\u00e9'] })], new Set(['caf\u00e9']), opts, undefined, [own('caf\u00e9', 'g1')]);
    expect(isEmptyPlan(plan)).toBe(true);
  });

  it('renames a group whose IdP group was renamed or moved, in place: members neither removed nor added', () => {
    const idp = snapshot([kc('a'), kc('b')], [['g1', '/eng/platform', ['a', 'b']]]);
    const plan = computeSyncPlan(idp, [dir('a', { groups: ['eng/backend'] }), dir('b')], new Set(['eng/backend']), opts, undefined, [own('eng/backend', 'g1')]);
    expect(plan.groupsToRename).toEqual([{ externalId: 'g1', from: 'eng/backend', to: 'eng/platform' }]);
    expect(plan.groupsToCreate).toEqual([]);
    expect(plan.removeMemberships).toEqual([]);
    expect(plan.addMemberships).toEqual([{ externalId: 'b', group: 'eng/platform' }]);
  });

  it('a member who left a renamed group is removed under its new name (memberships apply after renames)', () => {
    const idp = snapshot([kc('a')], [['g1', '/renamed', []]]);
    const plan = computeSyncPlan(idp, [dir('a', { groups: ['old'] })], new Set(['old']), opts, undefined, [own('old', 'g1')]);
    expect(plan.groupsToRename).toEqual([{ externalId: 'g1', from: 'old', to: 'renamed' }]);
    expect(plan.removeMemberships).toEqual([{ externalId: 'a', group: 'renamed' }]);
  });

  it('renames a group whose name changed only in letter case, keeping its members', () => {
    const idp = snapshot([kc('a')], [['g1', '/Staff', ['a']]]);
    const plan = computeSyncPlan(idp, [dir('a', { groups: ['staff'] })], new Set(['staff']), opts, undefined, [own('staff', 'g1')]);
    expect(plan.groupsToRename).toEqual([{ externalId: 'g1', from: 'staff', to: 'Staff' }]);
    expect(plan.addMemberships).toEqual([]);
    expect(plan.removeMemberships).toEqual([]);
  });

  it('swaps two groups names, and a new group may take a renamed group old name', () => {
    const idp = snapshot(
      [kc('a'), kc('b'), kc('c')],
      [
        ['g1', '/y', ['a']],
        ['g2', '/x', ['b']],
        ['g3', '/z', ['c']],
      ],
    );
    // g1 was x, g2 was y (a swap); g3 is now z, which no group holds.
    const plan = computeSyncPlan(idp, [dir('a', { groups: ['x'] }), dir('b', { groups: ['y'] }), dir('c')], new Set(['x', 'y']), opts, undefined, [
      own('x', 'g1'),
      own('y', 'g2'),
    ]);
    expect(plan.groupsToRename).toEqual([
      { externalId: 'g2', from: 'y', to: 'x' },
      { externalId: 'g1', from: 'x', to: 'y' },
    ]);
    expect(plan.addMemberships).toEqual([{ externalId: 'c', group: 'z' }]);
    expect(plan.removeMemberships).toEqual([]);
    expect(plan.groupsToCreate).toEqual([{ name: 'z', externalId: 'g3' }]);

    // g1 renamed x → y, and a new IdP group g4 is now called x: created after the rename frees x.
    const next = snapshot(
      [kc('a'), kc('d')],
      [
        ['g1', '/y', ['a']],
        ['g4', '/x', ['d']],
      ],
    );
    const chained = computeSyncPlan(next, [dir('a', { groups: ['x'] })], new Set(['x']), opts, undefined, [own('x', 'g1')]);
    expect(chained.groupsToRename).toEqual([{ externalId: 'g1', from: 'x', to: 'y' }]);
    expect(chained.groupsToCreate).toEqual([{ name: 'x', externalId: 'g4' }]);
    expect(chained.addMemberships).toEqual([{ externalId: 'd', group: 'x' }]);
  });

  it('keeps the name and the members of a group whose new name another group holds, and says so', () => {
    const idp = snapshot([kc('a')], [['g1', '/jira-users', ['a']]]);
    const plan = computeSyncPlan(idp, [dir('a', { groups: ['old'] })], new Set(['old', 'jira-users']), opts, undefined, [own('old', 'g1')]);
    expect(plan.groupsToRename).toEqual([]);
    expect(plan.groupRenamesRefused).toEqual([
      { externalId: 'g1', from: 'old', to: 'jira-users', reason: 'another group is named jira-users; the group old keeps its name' },
    ]);
    expect(planCounts(plan)).toMatchObject({ groupsRenamed: 0 });
    expect(plan.addMemberships).toEqual([]);
    expect(plan.removeMemberships).toEqual([]);
    expect(plan.groupsToCreate).toEqual([]);
  });

  it('links a group made before groups were linked by id to the IdP group of its name, instead of creating it', () => {
    const idp = snapshot([kc('a'), kc('b')], [['g1', '/staff', ['a', 'b']]]);
    const plan = computeSyncPlan(idp, [dir('a', { groups: ['staff'] }), dir('b')], new Set(['staff']), opts, undefined, [own('staff', null)]);
    expect(plan.groupsToLink).toEqual([{ name: 'staff', externalId: 'g1' }]);
    expect(plan.groupsToCreate).toEqual([]);
    expect(plan.addMemberships).toEqual([{ externalId: 'b', group: 'staff' }]);
    expect(isEmptyPlan(plan)).toBe(false);
  });

  it('a group whose IdP group is gone keeps its name; two IdP groups of one name (leaf naming) do not fight over it', () => {
    const idp = snapshot(
      [kc('a')],
      [
        ['g2', '/a/devs', ['a']],
        ['g3', '/b/devs', ['a']],
      ],
    );
    const plan = computeSyncPlan(idp, [dir('a', { groups: ['devs', 'gone'] })], new Set(['devs', 'gone']), { ...opts, naming: 'leaf' }, undefined, [
      own('devs', 'g2'),
      own('gone', 'g1'),
    ]);
    expect(plan.groupsToRename).toEqual([]);
    expect(plan.groupsToCreate).toEqual([]);
    expect(plan.removeMemberships).toEqual([{ externalId: 'a', group: 'gone' }]);
    expect(plan.addMemberships).toEqual([]);
  });
});

describe('attribute values one Keycloak user can inflate (attacker review)', () => {
  const withRoles = { ...opts, attributes: ['roles', 'department'] };

  it('leaves out a property of too many or too large values, reports it, and neither writes nor removes it; the rest of the user is planned', () => {
    const many = Array.from({ length: 1001 }, (_, i) => `r${i}`);
    const huge = Array.from({ length: 20 }, (_, i) => `${i}`.padEnd(2000, 'x'));
    const idp = snapshot([
      kc('m', { attributes: { roles: many, department: ['Eng'] } }),
      kc('n', { attributes: { roles: huge } }),
      kc('new', { attributes: { roles: many } }),
    ]);
    const plan = computeSyncPlan(idp, [dir('m', { properties: { roles: ['a', 'b'] } }), dir('n')], new Set(), withRoles);
    expect(plan.update.map((u) => [u.externalId, u.changes.map((c) => c.field), u.fields.properties, u.fields.removeProperties])).toEqual([
      ['m', ['properties.department'], { department: 'Eng' }, undefined],
    ]);
    expect(plan.create.map((u) => [u.externalId, u.properties])).toEqual([['new', {}]]);
    expect(plan.valuesRefused?.map((r) => [r.externalId, r.field])).toEqual([
      ['m', 'properties.roles'],
      ['n', 'properties.roles'],
      ['new', 'properties.roles'],
    ]);
    expect(plan.valuesRefused?.[0].reason).toMatch(/1001 values, more than 100/);
    expect(plan.valuesRefused?.[1].reason).toMatch(/bytes, more than 16384/);
  });

  it('holds a run that would remove synced properties from more than the allowed share of the active users (Keycloak stopped returning attributes)', () => {
    const directory = Array.from({ length: 10 }, (_, i) => dir(`u${i}`, { properties: { department: 'Eng' } }));
    const idp = snapshot(directory.map((d) => kc(d.externalId!, { attributes: {} })));
    const plan = computeSyncPlan(idp, directory, new Set(), { ...opts, attributes: ['department'] });
    expect(assessSyncPlan(plan, { idpUsers: 10, activeUsers: 10 }, opts)).toMatchObject({
      hold: true,
      reason: expect.stringContaining('remove synced properties of 10 of 10 active users'),
    });
    const one = computeSyncPlan(snapshot(directory.map((d, i) => kc(d.externalId!, { attributes: i ? { department: ['Eng'] } : {} }))), directory, new Set(), {
      ...opts,
      attributes: ['department'],
    });
    expect(assessSyncPlan(one, { idpUsers: 10, activeUsers: 10 }, { maxRemovalShare: 0.1 })).toEqual({ hold: false });
  });
});
