import { changedSinceBasis, directoryStateDigest } from './plan-basis';
import { DirectoryUserState, IdpSnapshot, IdpUser, SyncOptions, SyncPlanner } from './sync-plan';

const opts: SyncOptions = {
  naming: 'path',
  requiredGroups: [],
  includeSubgroups: true,
  attributes: ['dept'],
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
  otherGroups: [],
  properties: {},
  ...over,
});
const snapshot = (users: IdpUser[]): IdpSnapshot => ({ users, groups: [], members: new Map() });

describe('directoryStateDigest', () => {
  it('changes with every field the plan was computed from', () => {
    const base = dir('a', { groups: ['g1'], otherGroups: ['local'], properties: { dept: 'R&D' } });
    const digest = directoryStateDigest(base);
    const variants: Partial<DirectoryUserState>[] = [
      { id: 'other' },
      { username: 'b' },
      { email: null },
      { displayName: 'Z' },
      { active: false },
      { groups: [] },
      { groups: ['g1', 'g2'] },
      { otherGroups: [] },
      { properties: {} },
      { properties: { dept: 'Sales' } },
      { properties: { dept: 'R&D', extra: 'x' } },
    ];
    for (const v of variants) expect(directoryStateDigest({ ...base, ...v })).not.toBe(digest);
  });

  it('does not depend on the order of groups or properties, nor on a missing otherGroups', () => {
    const a = dir('a', { groups: ['g1', 'g2'], properties: { x: '1', y: '2' } });
    const b = dir('a', { groups: ['g2', 'g1'], properties: { y: '2', x: '1' }, otherGroups: undefined });
    expect(directoryStateDigest(a)).toBe(directoryStateDigest(b));
  });

  it('keeps a value that looks like a separator apart from two values', () => {
    expect(directoryStateDigest(dir('a', { groups: ['x","y'] }))).not.toBe(directoryStateDigest(dir('a', { groups: ['x', 'y'] })));
  });
});

describe('the basis of a plan', () => {
  it('is the state of every user the plan changes (and the absence of those it creates), nobody else', () => {
    const planner = new SyncPlanner(snapshot([kc('same'), kc('off', { enabled: false }), kc('renamed', { username: 'new-name' }), kc('new')]), opts);
    const directory = [dir('same'), dir('off'), dir('renamed'), dir('gone')];
    planner.add(directory);
    const plan = planner.finish(new Set());
    expect(plan.disable.map((d) => d.username).sort()).toEqual(['gone', 'off']);
    expect(planner.basis).toEqual({
      off: directoryStateDigest(directory[1]),
      renamed: directoryStateDigest(directory[2]),
      gone: directoryStateDigest(directory[3]),
      new: null,
    });
  });

  it('names the users whose state moved on since the plan, or who appeared', () => {
    const basis = { a: directoryStateDigest(dir('a')), b: directoryStateDigest(dir('b')), c: null, d: directoryStateDigest(dir('d')) };
    // a unchanged, b disabled by an admin, c created meanwhile, d deleted meanwhile.
    expect(changedSinceBasis(basis, [dir('a'), dir('b', { active: false }), dir('c')])).toEqual(['b', 'c', 'd']);
    expect(changedSinceBasis(basis, [dir('a'), dir('b'), dir('d')])).toEqual([]);
  });
});
