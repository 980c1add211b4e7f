import { checkName } from '@bridgekeeper/names';
import { newUserRecord, UserRecord } from './change-set';
import { decideIdentities, IdentityItem, releaseCandidates, releaseOf, renamesOf } from './identities';
import { NameIndex } from './names';

const now = new Date('2026-12-05T09:00:00Z');
const kc = { source: 'kc', claimLocalUsers: false };
let seq = 0;
const user = (username: string, over: Partial<UserRecord> = {}): UserRecord =>
  newUserRecord({ id: `00000000-0000-7000-8000-${String(++seq).padStart(12, '0')}`, username, source: 'kc', externalId: `sub-${username}`, ...over }, now);

/** The facts as the service reads them: every account by IdP id, name, email and lookalike keys. */
function decide(items: IdentityItem[], accounts: UserRecord[], by = kc) {
  const byExternal = new Map(accounts.filter((u) => u.externalId).map((u) => [`${u.source}:${u.externalId}`, u]));
  const byKey = new NameIndex<UserRecord>();
  for (const u of accounts) byKey.add(u, u.usernameSkeleton, u.usernameSkeletonShown);
  return decideIdentities({
    items,
    ownOf: (item) => (item.externalId ? byExternal.get(`${by.source}:${item.externalId}`) : undefined),
    byUsername: new Map(accounts.map((u) => [u.usernameLower, u])),
    byEmail: new Map(accounts.filter((u) => u.emailLower).map((u) => [u.emailLower!, u])),
    byKey,
    by,
  });
}

describe('decideIdentities: a user is the IdP’s id, never the name', () => {
  it('releases a departed user’s name (disabled, another IdP id of the same source) for a new user, any case', () => {
    const gone = user('alice', { active: false });
    const d = decide([{ externalId: 'sub-new', username: 'ALICE' }], [gone]);
    expect(d.left.size).toBe(0);
    expect(d.releases).toEqual([{ holder: gone, name: true, email: false }]);
    expect(d.vacated).toEqual(['alice']);
    expect(d.parks).toEqual([]);
  });

  it('leaves out a user whose name an active user of the same source holds (another IdP id), and says why', () => {
    const d = decide([{ externalId: 'sub-new', username: 'alice' }], [user('alice')]);
    expect([...d.left]).toEqual([{ externalId: 'sub-new', username: 'alice' }]);
    expect(d.conflicts).toEqual([
      { externalId: 'sub-new', username: 'alice', reason: expect.stringContaining('held by another active user of kc (another IdP id); not taken over') },
    ]);
    expect(d.releases).toEqual([]);
  });

  it('never releases a protected account, nor takes another source’s or a linked local one', () => {
    const cases: [UserRecord, string][] = [
      [user('root', { source: 'kc', active: false, protected: true }), 'held by another active user'],
      [user('bob', { source: 'other', active: false }), 'belongs to another source (other)'],
      [user('carol', { source: 'local', externalId: 'x' }), 'linked to an identity already'],
      [user('dave', { source: 'local', externalId: null, protected: true }), 'protected account'],
      [user('erin', { source: 'local', externalId: null }), 'claimLocalUsers is off'],
    ];
    for (const [holder, why] of cases) {
      const d = decide([{ externalId: 'sub-new', username: holder.username }], [holder]);
      expect(d.conflicts).toEqual([expect.objectContaining({ reason: expect.stringContaining(why) })]);
      expect(d.releases).toEqual([]);
    }
  });

  it('links (leaves to the upsert) a local account the source may claim, or one an admin made for it, only for a user without an account', () => {
    const local = user('erin', { source: 'local', externalId: null });
    expect(decide([{ externalId: 'sub-new', username: 'erin' }], [local], { source: 'kc', claimLocalUsers: true })).toMatchObject({
      conflicts: [],
      releases: [],
      parks: [],
    });
    const made = user('fay', { externalId: null });
    expect(decide([{ externalId: 'sub-new', username: 'fay' }], [made]).conflicts).toEqual([]);
    // A user with an account of its own renamed onto it is another person: not linked.
    const own = user('gus', { externalId: 'sub-gus' });
    const d = decide([{ externalId: 'sub-gus', username: 'fay' }], [own, made]);
    expect(d.conflicts).toEqual([expect.objectContaining({ reason: 'username: fay is held by another account; not taken over' })]);
    expect(d.parks).toEqual([]);
  });

  it('swaps two users’ names through parked names, in any order', () => {
    const a = user('ann');
    const b = user('ben');
    const d = decide(
      [
        { externalId: a.externalId, username: 'ben' },
        { externalId: b.externalId, username: 'ann' },
      ],
      [a, b],
    );
    expect(d.left.size).toBe(0);
    expect(d.parks).toEqual([
      { kind: 'user.park', userId: a.id, name: true, email: false },
      { kind: 'user.park', userId: b.id, name: true, email: false },
    ]);
    expect(d.vacated).toEqual(['ann', 'ben']);
  });

  it('follows a chain of renames: one left out keeps its name, so the one that wanted it is left out too', () => {
    const x = user('xena');
    const y = user('yuri');
    const z = user('zoe');
    // x → yuri, y → zoe; zoe is an active user who stays: y is left out, so yuri stays y's, so x is left out.
    const d = decide(
      [
        { externalId: x.externalId, username: 'yuri' },
        { externalId: y.externalId, username: 'zoe' },
      ],
      [x, y, z],
    );
    expect([...d.left].map((i) => i.username)).toEqual(['zoe', 'yuri']);
    expect(d.conflicts.map((c) => c.username)).toEqual(['zoe', 'yuri']);
    // Nobody moves: no name is parked for a rename that does not happen.
    expect(d.parks).toEqual([]);
    expect(d.vacated).toEqual([]);
  });

  it('refuses a rename to a name that looks like another user’s (Cyrillic а), before parking anything', () => {
    const a = user('ann');
    const alice = user('alice');
    const d = decide([{ externalId: a.externalId, username: 'аlice' }], [a, alice]);
    expect(d.misnamed).toEqual([
      {
        item: { externalId: a.externalId, username: 'аlice' },
        reason: expect.stringMatching(/^username: .*looks like the existing user .*alice.*Unicode TR 39/),
      },
    ]);
    expect(d.conflicts).toEqual([]);
    expect(d.parks).toEqual([]);
  });

  it('lets a rename take a lookalike of a name its holder leaves in the same batch, and refuses two renames that look alike', () => {
    const a = user('ann');
    const bill = user('bill');
    const moved = decide(
      [
        { externalId: a.externalId, username: 'bi11' },
        { externalId: bill.externalId, username: 'william' },
      ],
      [a, bill],
    );
    expect(moved.left.size).toBe(0);
    const c = user('cat');
    const twice = decide(
      [
        { externalId: a.externalId, username: 'mаx' },
        { externalId: c.externalId, username: 'max' },
      ],
      [a, c],
    );
    expect(twice.misnamed).toEqual([
      { item: expect.objectContaining({ username: 'max' }), reason: expect.stringContaining('in the same request (Unicode TR 39 confusable)') },
    ]);
    expect(twice.parks).toEqual([{ kind: 'user.park', userId: a.id, name: true, email: false }]);
  });

  it('refuses a rename that looks like a new user earlier in the same batch before parking it, so its account keeps its name and address (review finding)', () => {
    const pat = user('pat.old', { email: 'pat@example.com', emailLower: 'pat@example.com' });
    const items = [
      { externalId: 'sub-new', username: 'zed.bill' },
      { externalId: pat.externalId!, username: 'zed.bi11', email: 'pat@example.com' },
    ];
    const d = decide(items, [pat]);
    expect(d.misnamed).toEqual([{ item: items[1], reason: expect.stringContaining('looks like "zed.bill" in the same request') }]);
    expect(d.parks).toEqual([]);
    expect(d.vacated).toEqual([]);
  });

  it('releases no departed user’s name for a new user that looks like an earlier new user of the batch', () => {
    const gone = user('ann', { active: false });
    const items = [
      { externalId: 'sub-a', username: '\u0430nn' },
      { externalId: 'sub-b', username: 'ann' },
    ];
    const d = decide(items, [gone]);
    expect([...d.left]).toEqual([items[1]]);
    expect(d.releases).toEqual([]);
  });

  it('a refused rename keeps its name, so a user who wanted that name is left out as a conflict', () => {
    const a = user('ann');
    const b = user('ben');
    const alice = user('alice');
    const d = decide(
      [
        { externalId: a.externalId, username: 'аlice' },
        { externalId: b.externalId, username: 'ann' },
      ],
      [a, b, alice],
    );
    expect(d.misnamed.map((m) => m.item.username)).toEqual(['аlice']);
    expect(d.conflicts).toEqual([expect.objectContaining({ username: 'ann', reason: expect.stringContaining('held by another active user') })]);
    expect(d.parks).toEqual([]);
  });

  it('releases a departed user’s email for a new user, and leaves out one whose email an active user holds', () => {
    const gone = user('old', { email: 'Pat@example.org', active: false });
    const released = decide([{ externalId: 'sub-new', username: 'pat', email: 'pat@EXAMPLE.org' }], [gone]);
    expect(released.releases).toEqual([{ holder: gone, name: false, email: true }]);
    expect(released.vacated).toEqual([]);
    const held = decide([{ externalId: 'sub-new', username: 'pat', email: 'pat@example.org' }], [user('old', { email: 'pat@example.org' })]);
    expect(held.conflicts).toEqual([expect.objectContaining({ reason: expect.stringContaining('email: the email is held by another active user') })]);
  });

  it('parks an address a user leaves, so another user of the batch may take it', () => {
    const a = user('ann', { email: 'shared@example.org' });
    const b = user('ben');
    const d = decide(
      [
        { externalId: a.externalId, username: 'ann', email: 'ann@example.org' },
        { externalId: b.externalId, username: 'ben', email: 'shared@example.org' },
      ],
      [a, b],
    );
    expect(d.left.size).toBe(0);
    expect(d.parks).toEqual([{ kind: 'user.park', userId: a.id, name: false, email: true }]);
    // An item that leaves its email out keeps it: nothing moves.
    expect(decide([{ externalId: a.externalId, username: 'ann' }], [a]).parks).toEqual([]);
  });

  it('renamesOf keys only the items whose own account has another name (a change of case is not a rename)', () => {
    const a = user('ann');
    const items = [
      { externalId: a.externalId, username: 'ANN' },
      { externalId: 'sub-new', username: 'new' },
      { externalId: a.externalId, username: 'anna' },
    ];
    expect([...renamesOf(items, (i) => (i.externalId === a.externalId ? a : undefined)).keys()].map((i) => i.username)).toEqual(['anna']);
  });
});

describe('releasing a departed user’s name', () => {
  it('offers names by the rules, within 255 characters, cut by whole code points', () => {
    const long = '😀'.repeat(127) + 'a';
    const names = releaseCandidates({ username: long, id: '01234567-89ab-7cde-8f01-23456789abcd' }, () => 'ffffffff');
    expect(names.length).toBeGreaterThan(0);
    for (const n of names) {
      expect(n.length).toBeLessThanOrEqual(255);
      expect(checkName(n, 'username').ok).toBe(true);
      expect(n).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
    }
    expect(releaseCandidates({ username: 'alice', id: '01234567-89ab-7cde-8f01-23456789abcd' }, () => 'r')).toEqual([
      'alice~456789abcd',
      'alice~0123456789ab7cde8f0123456789abcd',
      ...Array(3).fill('alice~0123456789ab7cde8f0123456789abcd-r'),
    ]);
  });

  it('leaves out a candidate the name rules refuse: İ is two characters in lower case, so only the short suffix fits', () => {
    const names = releaseCandidates({ username: 'İ'.repeat(120), id: '01234567-89ab-7cde-8f01-23456789abcd' }, () => 'ffffffff');
    expect(names).toEqual(['İ'.repeat(120) + '~456789abcd']);
  });

  it('renames the holder, clears a released email, audits why, and reports from and to', () => {
    const gone = user('alice', { email: 'a@example.org', active: false, externalId: 'sub-old' });
    const { change, released, after } = releaseOf({ holder: gone, name: true, email: true }, 'alice~abc', now);
    expect(change).toEqual({
      kind: 'user.update',
      user: gone,
      set: { username: 'alice~abc', email: null },
      reason: "released for a new user of kc: a user is the IdP's id, never the name",
    });
    expect(released).toEqual({ id: gone.id, externalId: 'sub-old', from: 'alice', to: 'alice~abc', emailReleased: true });
    expect(after).toMatchObject({ username: 'alice~abc', usernameLower: 'alice~abc', email: null, emailLower: null, updatedAt: now });
    // Only the email: the name stays, and the report says so.
    const emailOnly = releaseOf({ holder: gone, name: false, email: true }, undefined, now);
    expect(emailOnly.change.set).toEqual({ email: null });
    expect(emailOnly.released).toEqual({ id: gone.id, externalId: 'sub-old', from: 'alice', to: 'alice', emailReleased: true });
  });
});
