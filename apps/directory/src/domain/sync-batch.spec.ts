import { nameKeys } from '@bridgekeeper/names';
import { DirectoryChange, GroupRecord, newGroupRecord, newUserRecord } from './change-set';
import {
  activeSwitches,
  addingUsers,
  deletions,
  GroupBatch,
  MembershipBatch,
  membershipChanges,
  membershipKey,
  membershipLookups,
  MembershipFound,
  planGroups,
  resolveMemberships,
} from './sync-batch';

const now = new Date('2026-12-05T09:00:00Z');
const at = new Date('2026-01-01T00:00:00Z');
const group = (id: string, name: string, source = 'kc', externalId: string | null = null): GroupRecord => newGroupRecord({ id, name, source, externalId }, at);
const batch = (over: Partial<GroupBatch> = {}): GroupBatch => ({ source: 'kc', groupsToRename: [], groupsToLink: [], groupsToCreate: [], ...over });
const ids = () => {
  let n = 0;
  return () => `new-${++n}`;
};
const plan = (over: Partial<GroupBatch>, groups: GroupRecord[]) => planGroups(batch(over), groups, now, ids());
/** The plan's changes, short: `park id`, `rename id name`, `link id ext`, `create name ext`. */
const steps = (changes: DirectoryChange[]) =>
  changes.map((c) => {
    if (c.kind === 'group.park') return `park ${c.groupId}`;
    if (c.kind === 'group.update' && c.set.name !== undefined) return `rename ${c.group.id} ${c.set.name}`;
    if (c.kind === 'group.update') return `link ${c.group.id} ${c.set.externalId}`;
    if (c.kind === 'group.create') return `create ${c.group.name} ${c.group.externalId}`;
    return c.kind;
  });

describe('planGroups: renames', () => {
  it('renames a group of the source found by its IdP group, in place, through a parked name; the change carries the row as it was', () => {
    const ops = group('g1', 'ops', 'kc', 'kc-1');
    const before = { ...ops };
    const { changes, refused } = plan({ groupsToRename: [{ externalId: 'kc-1', from: 'ops', to: 'operations' }] }, [ops]);
    expect(steps(changes)).toEqual(['park g1', 'rename g1 operations']);
    expect(refused).toEqual([]);
    expect(changes[1]).toMatchObject({ group: { id: 'g1', name: 'ops' } });
    expect(ops).toEqual(before); // nothing is changed in place: the audit's before is the row as read
  });

  it('lets two groups swap names, and a chain of renames each take the name the one before leaves', () => {
    const groups = [group('a', 'alpha', 'kc', 'kc-a'), group('b', 'beta', 'kc', 'kc-b'), group('c', 'gamma', 'kc', 'kc-c')];
    const swap = plan(
      {
        groupsToRename: [
          { externalId: 'kc-a', from: 'alpha', to: 'beta' },
          { externalId: 'kc-b', from: 'beta', to: 'alpha' },
        ],
      },
      groups,
    );
    expect(swap.refused).toEqual([]);
    expect(steps(swap.changes)).toEqual(['park a', 'park b', 'rename a beta', 'rename b alpha']);
    const chain = plan(
      {
        groupsToRename: [
          { externalId: 'kc-a', from: 'alpha', to: 'beta' },
          { externalId: 'kc-b', from: 'beta', to: 'gamma' },
          { externalId: 'kc-c', from: 'gamma', to: 'delta' },
        ],
      },
      groups,
    );
    expect(chain.refused).toEqual([]);
    expect(steps(chain.changes)).toEqual(['park a', 'park b', 'park c', 'rename a beta', 'rename b gamma', 'rename c delta']);
  });

  it('refuses a rename into a name another group holds, in any case: the group keeps its name', () => {
    const groups = [group('g1', 'ops', 'kc', 'kc-1'), group('l1', 'Admins', 'local')];
    const { changes, refused } = plan({ groupsToRename: [{ externalId: 'kc-1', from: 'ops', to: 'ADMINS' }] }, groups);
    expect(changes).toEqual([]);
    expect(refused).toEqual([{ kind: 'group', name: 'ADMINS', reason: 'group: another group is named ADMINS; the group ops keeps its name' }]);
  });

  it('refuses a rename into a lookalike of another group’s name (rn for m; Cyrillic letters for Latin), or one mixing scripts', () => {
    const groups = [
      group('g1', 'ops', 'kc', 'kc-1'),
      group('g2', 'dev', 'kc', 'kc-2'),
      group('g3', 'qa', 'kc', 'kc-3'),
      group('l1', 'jira-admins', 'local'),
      group('l2', 'sre', 'local'),
    ];
    const { changes, refused } = plan(
      {
        groupsToRename: [
          { externalId: 'kc-1', from: 'ops', to: 'jira-adrnins' },
          { externalId: 'kc-2', from: 'dev', to: '\u0455\u0433\u0435' }, // Cyrillic ѕ, г, е: no rule broken, looks like sre
          { externalId: 'kc-3', from: 'qa', to: 'jira-\u0430dmins' }, // a Cyrillic а among Latin letters
        ],
      },
      groups,
    );
    expect(changes).toEqual([]);
    expect(refused).toEqual([
      { kind: 'group', name: 'jira-\u0430dmins', reason: 'group: mixes Latin and Cyrillic letters, which look alike: write it in one of them' },
      {
        kind: 'group',
        name: 'jira-adrnins',
        reason: expect.stringMatching(/^group: .*jira-adrnins.* looks like the existing group .*jira-admins.*; the group ops keeps its name$/),
      },
      { kind: 'group', name: '\u0455\u0433\u0435', reason: expect.stringMatching(/looks like the existing group .*sre.*; the group dev keeps its name$/) },
    ]);
  });

  it('refuses a rename into a lookalike of a name another rename of the batch takes', () => {
    const groups = [group('g1', 'ops', 'kc', 'kc-1'), group('g2', 'dev', 'kc', 'kc-2')];
    const { changes, refused } = plan(
      {
        groupsToRename: [
          { externalId: 'kc-1', from: 'ops', to: 'jira-admins' },
          { externalId: 'kc-2', from: 'dev', to: 'jira-adrnins' },
        ],
      },
      groups,
    );
    expect(steps(changes)).toEqual(['park g1', 'rename g1 jira-admins']);
    expect(refused).toEqual([{ kind: 'group', name: 'jira-adrnins', reason: expect.stringContaining('the group dev keeps its name') }]);
  });

  it('a refused rename keeps its name, so a rename that wanted that name is refused too, and so on down the chain', () => {
    // a → a lookalike of a local group (refused); b → a's name (held, now); c → b's name (held, now).
    const groups = [
      group('a', 'pay-admins', 'kc', 'kc-a'),
      group('b', 'q-readers', 'kc', 'kc-b'),
      group('c', 'r-team', 'kc', 'kc-c'),
      group('l', 'jira-admins', 'local'),
    ];
    const { changes, refused } = plan(
      {
        groupsToRename: [
          { externalId: 'kc-a', from: 'pay-admins', to: 'jira-adrnins' },
          { externalId: 'kc-b', from: 'q-readers', to: 'pay-admins' },
          { externalId: 'kc-c', from: 'r-team', to: 'q-readers' },
        ],
      },
      groups,
    );
    expect(changes).toEqual([]);
    expect(refused.map((r) => [r.name, r.reason.replace(/^.*; /, '')])).toEqual([
      ['jira-adrnins', 'the group pay-admins keeps its name'],
      ['pay-admins', 'the group q-readers keeps its name'],
      ['q-readers', 'the group r-team keeps its name'],
    ]);
  });

  it('renames only while the group is named as planned, and only the source’s own group of that IdP group', () => {
    const groups = [group('g1', 'ops', 'kc', 'kc-1'), group('o1', 'infra', 'other', 'kc-2'), group('l1', 'devs', 'local')];
    const { changes, refused } = plan(
      {
        groupsToRename: [
          { externalId: 'kc-1', from: 'operations', to: 'ops-team' }, // renamed again meanwhile
          { externalId: 'kc-2', from: 'infra', to: 'platform' }, // another source's group with that id
          { externalId: 'kc-3', from: 'devs', to: 'developers' }, // a local group of the name, no IdP group
        ],
      },
      groups,
    );
    expect(changes).toEqual([]);
    expect(refused).toEqual([
      {
        kind: 'group',
        name: 'ops-team',
        reason: 'group: the group operations of IdP group kc-1 is not here under that name any more; the next run plans its rename afresh',
      },
      { kind: 'group', name: 'platform', reason: expect.stringContaining('the group infra of IdP group kc-2 is not here') },
      { kind: 'group', name: 'developers', reason: expect.stringContaining('not here under that name') },
    ]);
  });

  it('refuses a new name that breaks the name rules, with the rule’s reason', () => {
    const { changes, refused } = plan(
      {
        groupsToRename: [
          { externalId: 'kc-1', from: 'ops', to: 'ops\u200Bteam' },
          { externalId: 'kc-1', from: 'ops', to: ' ops' },
        ],
      },
      [group('g1', 'ops', 'kc', 'kc-1')],
    );
    expect(changes).toEqual([]);
    expect(refused).toEqual([
      { kind: 'group', name: 'ops\u200Bteam', reason: expect.stringMatching(/^group: contains U\+200B/) },
      { kind: 'group', name: ' ops', reason: 'group: starts or ends with a space' },
    ]);
  });

  it('compares names in NFC: a name the IdP sends decomposed is the stored one (no rename), a change of case is a rename', () => {
    const cafe = group('g1', 'caf\u00e9', 'kc', 'kc-1');
    expect(plan({ groupsToRename: [{ externalId: 'kc-1', from: 'cafe\u0301', to: 'cafe\u0301' }] }, [cafe])).toEqual({ changes: [], refused: [] });
    expect(steps(plan({ groupsToRename: [{ externalId: 'kc-1', from: 'cafe\u0301', to: 'CAF\u00c9' }] }, [cafe]).changes)).toEqual([
      'park g1',
      'rename g1 CAF\u00c9',
    ]);
  });
});

describe('planGroups: links', () => {
  it('links an unlinked group of the source named as the IdP group (any case, NFC), conditionally, carrying the row as it was', () => {
    const old = group('g1', 'Caf\u00e9', 'kc');
    const { changes } = plan({ groupsToLink: [{ name: 'cafe\u0301', externalId: 'kc-1' }] }, [old]);
    expect(changes).toEqual([{ kind: 'group.update', group: old, set: { externalId: 'kc-1' }, onlyIfUnlinked: true }]);
    expect(old.externalId).toBeNull();
  });

  it('never links another source’s or a local group, a group linked already, or an IdP group the source has a group of', () => {
    const groups = [
      group('o1', 'infra', 'other'),
      group('l1', 'devs', 'local'),
      group('g1', 'ops', 'kc', 'kc-9'),
      group('g2', 'qa', 'kc', 'kc-2'),
      group('g3', 'qa-old', 'kc'),
    ];
    const { changes } = plan(
      {
        groupsToLink: [
          { name: 'infra', externalId: 'kc-1' },
          { name: 'devs', externalId: 'kc-3' },
          { name: 'ops', externalId: 'kc-4' },
          { name: 'qa-old', externalId: 'kc-2' },
        ],
      },
      groups,
    );
    expect(changes).toEqual([]);
  });

  it('links a group to one IdP group only, and an IdP group to one group only', () => {
    const groups = [group('g1', 'ops', 'kc'), group('g2', 'dev', 'kc')];
    const { changes } = plan(
      {
        groupsToLink: [
          { name: 'ops', externalId: 'kc-1' },
          { name: 'OPS', externalId: 'kc-2' },
          { name: 'dev', externalId: 'kc-1' },
        ],
      },
      groups,
    );
    expect(steps(changes)).toEqual(['link g1 kc-1']);
  });
});

describe('planGroups: new groups', () => {
  it('creates a group as its IdP group, with its derived columns, once per name', () => {
    const { changes, refused } = plan(
      {
        groupsToCreate: [
          { name: 'ops', externalId: 'kc-1' },
          { name: 'ops', externalId: 'kc-1' },
          { name: 'plain', externalId: null },
        ],
      },
      [],
    );
    expect(refused).toEqual([]);
    expect(changes).toEqual([
      { kind: 'group.create', group: { ...newGroupRecord({ id: 'new-1', name: 'ops', source: 'kc', externalId: 'kc-1' }, now) } },
      { kind: 'group.create', group: { ...newGroupRecord({ id: 'new-2', name: 'plain', source: 'kc', externalId: null }, now) } },
    ]);
    expect(changes[0]).toMatchObject({ group: { nameLower: 'ops', nameSkeleton: nameKeys('ops').folded, createdAt: now } });
  });

  it('does not create a group whose IdP group is here under another name (a single user’s sync before a run renames it), nor a second group of one IdP group', () => {
    const { changes } = plan(
      {
        groupsToCreate: [
          { name: 'operations', externalId: 'kc-1' },
          { name: 'new', externalId: 'kc-2' },
          { name: 'newer', externalId: 'kc-2' },
        ],
      },
      [group('g1', 'ops', 'kc', 'kc-1')],
    );
    expect(steps(changes)).toEqual(['create new kc-2']);
  });

  it('does not create a name a group holds in any case or form, whoever owns it (memberships then name that group)', () => {
    const groups = [group('l1', 'Staff', 'local'), group('o1', 'caf\u00e9', 'other', 'x')];
    expect(
      plan(
        {
          groupsToCreate: [
            { name: 'STAFF', externalId: 'kc-1' },
            { name: 'cafe\u0301', externalId: 'kc-2' },
          ],
        },
        groups,
      ),
    ).toEqual({ changes: [], refused: [] });
  });

  it('refuses a name that breaks the rules, or looks like an existing group’s or another new one’s', () => {
    const { changes, refused } = plan(
      {
        groupsToCreate: [
          { name: 'bad\u0000name', externalId: 'kc-1' },
          { name: 'jira-adrnins', externalId: 'kc-2' },
          { name: 'team-m', externalId: 'kc-3' },
          { name: 'team-rn', externalId: 'kc-4' },
          { name: 'ｏｐｓ', externalId: 'kc-5' },
        ],
      },
      [group('l1', 'jira-admins', 'local')],
    );
    expect(steps(changes)).toEqual(['create team-m kc-3']);
    expect(refused).toEqual([
      { kind: 'group', name: 'bad\u0000name', reason: expect.stringMatching(/^group: contains U\+0000/) },
      { kind: 'group', name: 'jira-adrnins', reason: expect.stringMatching(/^group: .* looks like the existing group .*jira-admins.*; rename one of them$/) },
      { kind: 'group', name: 'team-rn', reason: expect.stringMatching(/looks like the existing group .*team-m/) },
      { kind: 'group', name: 'ｏｐｓ', reason: expect.stringMatching(/^group: contains U\+FF4F, a compatibility form/) },
    ]);
  });

  it('checks new names against the names as renamed: a name a rename leaves is free, one it takes (or its lookalike) is not', () => {
    const { changes, refused } = plan(
      {
        groupsToRename: [{ externalId: 'kc-1', from: 'ops', to: 'jira-admins' }],
        groupsToCreate: [
          { name: 'ops', externalId: 'kc-2' },
          { name: 'jira-admins', externalId: 'kc-3' },
          { name: 'jira-adrnins', externalId: 'kc-4' },
        ],
      },
      [group('g1', 'ops', 'kc', 'kc-1')],
    );
    expect(steps(changes)).toEqual(['park g1', 'rename g1 jira-admins', 'create ops kc-2']);
    expect(refused).toEqual([{ kind: 'group', name: 'jira-adrnins', reason: expect.stringContaining('looks like the existing group') }]);
  });

  it('a refused rename keeps the name: a new group of that name is not created, nor one of the refused name', () => {
    const { changes, refused } = plan(
      {
        groupsToRename: [{ externalId: 'kc-1', from: 'ops', to: 'Staff' }],
        groupsToCreate: [
          { name: 'ops', externalId: 'kc-2' },
          { name: 'staff', externalId: 'kc-3' },
        ],
      },
      [group('g1', 'ops', 'kc', 'kc-1'), group('l1', 'Staff', 'local')],
    );
    expect(changes).toEqual([]);
    expect(refused).toEqual([{ kind: 'group', name: 'Staff', reason: expect.stringContaining('another group is named Staff') }]);
  });

  it('orders the plan as it must be written: parks, renames, links, creates; refusals as met', () => {
    const { changes, refused } = plan(
      {
        groupsToRename: [
          { externalId: 'kc-1', from: 'a', to: 'b' },
          { externalId: 'kc-1', from: 'x', to: 'y' },
        ],
        groupsToLink: [{ name: 'c', externalId: 'kc-3' }],
        groupsToCreate: [
          { name: 'd', externalId: 'kc-4' },
          { name: 'b\u0007', externalId: 'kc-5' },
        ],
      },
      [group('g1', 'a', 'kc', 'kc-1'), group('g3', 'c', 'kc')],
    );
    expect(steps(changes)).toEqual(['park g1', 'rename g1 b', 'link g3 kc-3', 'create d kc-4']);
    expect(refused.map((r) => r.name)).toEqual(['y', 'b\u0007']);
  });
});

describe('activeSwitches and deletions: only the source’s own users', () => {
  const alice = newUserRecord({ id: 'u1', username: 'alice', source: 'kc', externalId: 'kc-1' }, at);
  const bob = newUserRecord({ id: 'u2', username: 'bob', source: 'kc', externalId: 'kc-2', active: false }, at);
  const carol = newUserRecord({ id: 'u3', username: 'carol', source: 'other', externalId: 'kc-3' }, at);
  const found = new Map([alice, bob, carol].map((u) => [u.id, u]));

  it('switches only users whose state changes, never another source’s, nothing for an id not found', () => {
    const wanted = [
      { id: 'u1', active: false },
      { id: 'u2', active: false },
      { id: 'u3', active: false },
      { id: 'u9', active: true },
      { id: 'u2', active: true },
    ];
    expect(activeSwitches('kc', wanted, found)).toEqual([
      { kind: 'user.update', user: alice, set: { active: false } },
      { kind: 'user.update', user: bob, set: { active: true } },
    ]);
  });

  it('deletes the source’s users found, never another source’s', () => {
    expect(deletions('kc', [alice, carol, bob])).toEqual([
      { kind: 'user.delete', user: alice },
      { kind: 'user.delete', user: bob },
    ]);
  });
});

describe('memberships: which group a membership names, and which the source may join or leave', () => {
  const g = (id: string, name: string, source: string, externalId: string | null = null) => ({
    id,
    name,
    nameLower: name.normalize('NFC').toLowerCase(),
    source,
    externalId,
  });
  const moves = (over: Partial<MembershipBatch>): MembershipBatch => ({
    source: 'kc',
    grantLocalGroups: [],
    addMemberships: [],
    removeMemberships: [],
    groupIdentities: [],
    ...over,
  });
  const lookup = (groups: ReturnType<typeof g>[], users: Record<string, string> = { 'kc-alice': 'u1', 'kc-bob': 'u2' }): MembershipFound => ({
    userIds: new Map(Object.entries(users)),
    groupsByName: new Map(groups.map((x) => [x.nameLower, x])),
    ownByIdpGroup: new Map(groups.filter((x) => x.source === 'kc' && x.externalId).map((x) => [x.externalId!, x])),
  });
  const groupIdsOf = (r: { adds: { groupId: string }[]; removes: { groupId: string }[] }) => ({
    adds: r.adds.map((a) => a.groupId),
    removes: r.removes.map((a) => a.groupId),
  });

  it('says what to read: each user and lower-case NFC group name once, and the IdP groups named (the last identity of a name wins)', () => {
    const batch = moves({
      addMemberships: [
        { externalId: 'kc-alice', group: 'Caf\u00e9' },
        { externalId: 'kc-alice', group: 'cafe\u0301' },
      ],
      removeMemberships: [{ externalId: 'kc-bob', group: 'OPS' }],
      groupIdentities: [
        { group: 'ops', externalId: 'g-1' },
        { group: 'OPS', externalId: 'g-2' },
        { group: 'dev', externalId: 'g-2' },
      ],
    });
    expect(membershipLookups(batch)).toEqual({ externalIds: ['kc-alice', 'kc-bob'], groupNames: ['caf\u00e9', 'ops'], idpGroupIds: ['g-2'] });
  });

  it('joins the source’s own groups and the granted local ones (any case); never another source’s or an ungranted local one', () => {
    const groups = [g('k1', 'ops', 'kc'), g('l1', 'Staff', 'local'), g('l2', 'admins', 'local'), g('o1', 'infra', 'other')];
    const batch = moves({
      grantLocalGroups: ['STAFF'],
      addMemberships: ['ops', 'staff', 'admins', 'infra', 'absent'].map((group) => ({ externalId: 'kc-alice', group })),
    });
    const { adds } = resolveMemberships(batch, lookup(groups));
    expect(adds).toEqual([
      { userId: 'u1', groupId: 'k1', group: 'ops' },
      { userId: 'u1', groupId: 'l1', group: 'staff' },
    ]);
  });

  it('leaves only the source’s own groups: a granted local group is joined, never left', () => {
    const groups = [g('k1', 'ops', 'kc'), g('l1', 'staff', 'local'), g('o1', 'infra', 'other')];
    const batch = moves({ grantLocalGroups: ['staff'], removeMemberships: ['ops', 'staff', 'infra'].map((group) => ({ externalId: 'kc-bob', group })) });
    expect(resolveMemberships(batch, lookup(groups)).removes).toEqual([{ userId: 'u2', groupId: 'k1', group: 'ops' }]);
  });

  it('drops a membership of a user not found (left out, in conflict, another source’s) or of a group left out for its name', () => {
    const batch = moves({
      addMemberships: [
        { externalId: 'kc-eve', group: 'ops' },
        { externalId: 'kc-alice', group: 'jira-adrnins' },
      ],
      removeMemberships: [{ externalId: 'kc-eve', group: 'ops' }],
    });
    expect(resolveMemberships(batch, lookup([g('k1', 'ops', 'kc')]))).toEqual({ adds: [], removes: [] });
  });

  it('finds a group by its name as stored (NFC, any case), and keeps the name as given for the audit', () => {
    const batch = moves({ addMemberships: [{ externalId: 'kc-alice', group: 'CAFE\u0301' }] });
    expect(resolveMemberships(batch, lookup([g('k1', 'caf\u00e9', 'kc')])).adds).toEqual([{ userId: 'u1', groupId: 'k1', group: 'CAFE\u0301' }]);
  });

  it('an IdP group means the source’s own group of it, whatever its name now (renamed at the IdP, not here yet)', () => {
    const groups = [g('k1', 'old-name', 'kc', 'g-1'), g('l1', 'new-name', 'local')];
    const batch = moves({
      grantLocalGroups: ['new-name'],
      addMemberships: [{ externalId: 'kc-alice', group: 'new-name' }],
      removeMemberships: [{ externalId: 'kc-bob', group: 'new-name' }],
      groupIdentities: [{ group: 'new-name', externalId: 'g-1' }],
    });
    expect(groupIdsOf(resolveMemberships(batch, lookup(groups)))).toEqual({ adds: ['k1'], removes: ['k1'] });
  });

  it('after a swap of names at the IdP, a name never means the source’s group of the other IdP group: each keeps its own members', () => {
    // Keycloak swapped alpha and beta; here alpha is still g-a and beta g-b (a run renames them later).
    const groups = [g('ka', 'alpha', 'kc', 'g-a'), g('kb', 'beta', 'kc', 'g-b')];
    const swapped = [
      { group: 'alpha', externalId: 'g-b' },
      { group: 'beta', externalId: 'g-a' },
    ];
    const batch = moves({
      addMemberships: [{ externalId: 'kc-alice', group: 'alpha' }],
      removeMemberships: [{ externalId: 'kc-bob', group: 'beta' }],
      groupIdentities: swapped,
    });
    expect(groupIdsOf(resolveMemberships(batch, lookup(groups)))).toEqual({ adds: ['kb'], removes: ['ka'] });
    // The source has no group of that IdP group: its own group of that name is another IdP group's, not taken.
    const onlyAlpha = [g('ka', 'alpha', 'kc', 'g-a')];
    const lone = moves({ addMemberships: [{ externalId: 'kc-alice', group: 'alpha' }], groupIdentities: [{ group: 'alpha', externalId: 'g-b' }] });
    expect(resolveMemberships(lone, lookup(onlyAlpha)).adds).toEqual([]);
  });

  it('an IdP group the source has no group of yet: a granted local group of the name, or its own group of the name not linked yet', () => {
    const batch = (group: string) =>
      moves({ grantLocalGroups: ['staff'], addMemberships: [{ externalId: 'kc-alice', group }], groupIdentities: [{ group, externalId: 'g-9' }] });
    expect(resolveMemberships(batch('staff'), lookup([g('l1', 'staff', 'local')])).adds).toEqual([{ userId: 'u1', groupId: 'l1', group: 'staff' }]);
    expect(resolveMemberships(batch('ops'), lookup([g('k1', 'ops', 'kc')])).adds).toEqual([{ userId: 'u1', groupId: 'k1', group: 'ops' }]);
    expect(resolveMemberships(batch('infra'), lookup([g('o1', 'infra', 'other')])).adds).toEqual([]);
  });

  it('adds only memberships the users lack (the adding users’ memberships read between the steps), removes conditionally, adds first', () => {
    const adds = [
      { userId: 'u1', groupId: 'k1', group: 'ops' },
      { userId: 'u2', groupId: 'k1', group: 'ops' },
      { userId: 'u1', groupId: 'k2', group: 'dev' },
    ];
    const removes = [{ userId: 'u2', groupId: 'k3', group: 'qa' }];
    expect(addingUsers(adds)).toEqual(['u1', 'u2']);
    expect(membershipChanges(adds, removes, new Set([membershipKey('u1', 'k1')]))).toEqual([
      { kind: 'membership.add', userId: 'u2', groupId: 'k1', group: 'ops' },
      { kind: 'membership.add', userId: 'u1', groupId: 'k2', group: 'dev' },
      { kind: 'membership.remove', userId: 'u2', groupId: 'k3', group: 'qa', ifPresent: true },
    ]);
  });
});
