import { DirectoryRpc, ProvisioningNotice } from '@bridgekeeper/contracts';
import { DirectoryChange, GroupRecord, newGroupRecord, newUserRecord, UserRecord } from './change-set';
import { groupsLike, usersLike } from './names';
import {
  AccountFacts,
  accountChanges,
  defaultGroupChanges,
  emailTaken,
  GroupFacts,
  groupChanges,
  keptFrom,
  LoginRequest,
  loginIdentity,
  loginTime,
  propertyChanges,
  ProvisionRequest,
  repeatLogin,
  resolveAccount,
  screenNames,
  sortedNames,
  unchangedReply,
  withNotices,
} from './provisioning';

const now = new Date('2026-12-05T09:00:00Z');
const earlier = new Date('2026-12-01T09:00:00Z');

const request = (over: Partial<ProvisionRequest> = {}): ProvisionRequest =>
  DirectoryRpc.provisionUser.request.parse({
    source: 'kc',
    externalId: 'sub-1',
    username: 'alice',
    email: 'alice@example.org',
    displayName: 'Alice',
    groups: [],
    actor: 'login:t1',
    ...over,
  });
const login = (over: Partial<ProvisionRequest> = {}) => request(over) as LoginRequest;
const clean = { displayName: 'Alice', properties: {}, refused: [] };

let ids = 0;
const user = (over: Partial<UserRecord> & { username: string }) => ({ ...newUserRecord({ id: `u${++ids}`, source: 'kc', ...over }, earlier), ...over });
const group = (name: string, source = 'kc', id = `g-${name}`) => newGroupRecord({ id, name, source }, earlier);
const newIds = (prefix: string) => {
  let n = 0;
  return () => `${prefix}${++n}`;
};

/** The account step as the service runs it: what loginIdentity asks for, read from `directory`. */
function decide(asserted: ProvisionRequest, directory: UserRecord[], notices: ProvisioningNotice[] = []) {
  const bySubject = directory.find((u) => u.source === asserted.source && u.externalId === asserted.externalId) ?? null;
  const identity = loginIdentity(asserted, bySubject);
  if ('refused' in identity) return { reply: identity.refused };
  const { req, read } = identity;
  const facts: AccountFacts = {
    asserted,
    req,
    bySubject,
    usersNamed: read.usersNamed ? usersLike(directory) : undefined,
    emailHolder: read.emailHolder === null ? null : (directory.find((u) => u.emailLower === read.emailHolder) ?? null),
    notices,
    now,
    newUserId: () => 'new-user',
  };
  return accountChanges(facts);
}

const groupFacts = (req: LoginRequest, named: GroupRecord[], current: GroupRecord[] = []): GroupFacts => ({
  req,
  userId: 'u',
  named: groupsLike(named),
  current,
  notices: [],
  now,
  newGroupId: newIds('new-g'),
});
const kinds = (changes: DirectoryChange[]) =>
  changes.map((c) => `${c.kind} ${'group' in c && typeof c.group === 'object' ? c.group.name : 'group' in c ? c.group : ''}`.trim());

describe('screenNames: a login’s names by the name rules', () => {
  it('refuses the login for a username or an email it cannot store, and stores names in NFC', () => {
    expect(screenNames(request({ username: 'ali\u200Bce' }), clean)).toEqual({
      refused: { status: 'error', code: 'name_refused', message: expect.stringMatching(/^username: .*U\+200B/) },
    });
    expect(screenNames({ ...request(), email: 'a\u202Eb@example.org' }, clean)).toMatchObject({
      refused: { code: 'name_refused', message: expect.stringMatching(/^email: /) },
    });
    const decomposed = screenNames(request({ username: 'Jose\u0301' }), clean);
    expect('req' in decomposed && decomposed.req.username).toBe('Jos\u00e9');
  });

  it('leaves out a group whose name breaks the rules (a notice, its hidden characters shown), and each refused value, while the login goes on', () => {
    const screened = screenNames(request({ groups: ['devs', 'ad\u200Bmins'], newUserGroups: ['all\u0000'] }), {
      displayName: undefined,
      properties: { dept: 'ops' },
      refused: [{ field: 'displayName', reason: 'contains a NUL character' }],
    });
    if (!('req' in screened)) throw new Error('refused');
    expect(screened.req).toMatchObject({ groups: ['devs'], newUserGroups: [], displayName: null, properties: { dept: 'ops' } });
    expect(screened.notices).toEqual([
      { code: 'value_refused', name: 'displayName', reason: 'not stored: contains a NUL character' },
      { code: 'name_refused', name: 'ad<U+200B>mins', reason: expect.stringMatching(/^not joined: group: /) },
      { code: 'name_refused', name: 'all<U+0000>', reason: expect.stringMatching(/^not joined: group: /) },
    ]);
  });

  it('lets a login without a username through (a known user keeps theirs)', () => {
    const screened = screenNames(request({ username: undefined, absent: ['username'] }), clean);
    expect('req' in screened && screened.req.username).toBeUndefined();
  });
});

describe('keptFrom and loginIdentity: what a known user keeps, and what the login needs read', () => {
  const known = user({ username: 'alice', email: 'alice@example.org', displayName: 'Alice', externalId: 'sub-1' });

  it('keeps what the login did not carry (an absent claim is not an empty value), and takes what it did', () => {
    const kept = keptFrom(request({ username: 'fallback@idp', email: null, displayName: null, absent: ['username', 'email', 'displayName'] }), known);
    expect(kept).toMatchObject({ username: 'alice', email: 'alice@example.org', displayName: 'Alice' });
    expect(keptFrom(request({ email: null, displayName: null }), known)).toMatchObject({ email: null, displayName: null });
  });

  it('refuses a new user without a username; a known one keeps theirs', () => {
    const nameless = request({ username: undefined, absent: ['username'] });
    expect(loginIdentity(nameless, null)).toEqual({ refused: { status: 'error', code: 'no_username', message: expect.any(String) } });
    expect(loginIdentity(nameless, known)).toMatchObject({ req: { username: 'alice' }, read: { usersNamed: false, emailHolder: null } });
  });

  it('reads the username’s holders for a new user or a rename only, and the address’s holder unless the user holds it already (any case)', () => {
    expect(loginIdentity(request(), null)).toMatchObject({ read: { usersNamed: true, emailHolder: 'alice@example.org' } });
    expect(loginIdentity(request({ email: 'ALICE@example.org' }), known)).toMatchObject({ read: { usersNamed: false, emailHolder: null } });
    expect(loginIdentity(request({ username: 'alice2', email: 'new@example.org' }), known)).toMatchObject({
      read: { usersNamed: true, emailHolder: 'new@example.org' },
    });
    expect(loginIdentity(request({ email: null }), null)).toMatchObject({ read: { emailHolder: null } });
  });
});

describe('accountChanges: which account a login is', () => {
  it('creates a new user keyed on the subject, noting the login time', () => {
    const decided = decide(request({ loginAt: earlier.toISOString() }), []);
    expect(decided).toMatchObject({
      created: true,
      changed: true,
      notices: [],
      account: { id: 'new-user', username: 'alice', email: 'alice@example.org', source: 'kc', externalId: 'sub-1', lastLoginAt: earlier, createdAt: now },
    });
    expect('change' in decided && decided.change.kind).toBe('user.create');
  });

  it('updates the user the subject names, even under a new username, never moving the last-login time back', () => {
    const later = new Date('2026-12-06T09:00:00Z');
    const known = user({ username: 'alice', email: 'alice@example.org', externalId: 'sub-1', lastLoginAt: later });
    const decided = decide(request({ username: 'alice.b', loginAt: earlier.toISOString() }), [known]);
    if (!('change' in decided)) throw new Error('refused');
    expect(decided).toMatchObject({ created: false, changed: true, account: { id: known.id, username: 'alice.b', usernameLower: 'alice.b', updatedAt: now } });
    expect(decided.change).toEqual({
      kind: 'user.update',
      user: known,
      set: expect.objectContaining({ username: 'alice.b', externalId: 'sub-1', lastLoginAt: later }),
    });
    // The record the change carries is the row as it was: the audit's before.
    expect(known.username).toBe('alice');
  });

  it('tells an update that changes nothing (changed false)', () => {
    const known = user({ username: 'alice', email: 'alice@example.org', displayName: 'Alice', externalId: 'sub-1' });
    expect(decide(request(), [known])).toMatchObject({ changed: false, account: { updatedAt: earlier } });
  });

  it('leaves a disabled user disabled and unchanged', () => {
    const known = user({ username: 'alice', externalId: 'sub-1', active: false });
    expect(decide(request({ displayName: 'New' }), [known])).toEqual({
      reply: { status: 'disabled', user: expect.objectContaining({ id: known.id, active: false, displayName: null }) },
    });
  });

  describe('linking an account found by username (matchOn)', () => {
    it('links an account an admin created for this source (any case of its name)', () => {
      const made = user({ username: 'Alice', email: null, externalId: null });
      const decided = decide(request(), [made]);
      expect(decided).toMatchObject({ created: false, account: { id: made.id, externalId: 'sub-1', username: 'alice' } });
    });

    it('never links from a fallback username (the email, a NameID): it names a new user only, and a taken name refuses it', () => {
      const made = user({ username: 'alice', email: null, externalId: null });
      expect(decide(request({ absent: ['username'] }), [made])).toEqual({
        reply: {
          status: 'error',
          code: 'account_not_owned',
          message: "alice is taken by another account, which the mapping's matchOn (username) does not link",
        },
      });
      expect(decide(request({ matchOn: [] }), [made])).toMatchObject({ reply: { message: expect.stringContaining('matchOn (none)') } });
    });

    it('refuses the login for another source’s account, a protected one, or a local one without the grant', () => {
      const refusal = (holder: UserRecord, over: Partial<ProvisionRequest> = {}) =>
        'reply' in decide(request(over), [holder]) ? (decide(request(over), [holder]) as { reply: { message: string } }).reply.message : 'linked';
      expect(refusal(user({ username: 'alice', source: 'other', externalId: 'x' }))).toMatch(/belongs to another source \(other\)/);
      expect(refusal(user({ username: 'alice', protected: true, externalId: null }))).toMatch(/protected account/);
      expect(refusal(user({ username: 'alice', source: 'local', externalId: null, protected: true }), { claimLocalUsers: true })).toMatch(/protected account/);
      expect(refusal(user({ username: 'alice', source: 'local', externalId: null }))).toMatch(/claimLocalUsers is off/);
      expect(refusal(user({ username: 'alice', source: 'local', externalId: null }), { claimLocalUsers: true })).toBe('linked');
      expect(refusal(user({ username: 'alice', source: 'local', externalId: 'break-glass:alice' }), { claimLocalUsers: true })).toMatch(
        /linked to an identity already/,
      );
    });

    it('never hands a departed user’s account (same name, another subject) to a new person: the admin is told how to re-key', () => {
      const departed = user({ username: 'alice', externalId: 'sub-old', active: false });
      const decided = decide(request({ externalId: 'sub-new' }), [departed]);
      expect(decided).toEqual({
        reply: { status: 'error', code: 'account_not_owned', message: expect.stringContaining(`PATCH /api/v1/users/${departed.id}`) },
      });
    });

    it('refuses a name that only looks like another user’s (Cyrillic а, fullwidth letters), and takes another case of it for the same name', () => {
      const other = user({ username: 'alice', externalId: 'sub-x' });
      for (const name of ['\u0430lice', 'ＡＬＩＣＥ']) {
        expect(decide(request({ externalId: 'sub-2', username: name, email: null }), [other])).toEqual({
          reply: { status: 'error', code: 'name_refused', message: expect.stringContaining('looks like the existing user') },
        });
      }
      expect(decide(request({ externalId: 'sub-2', username: 'ALICE', email: null }), [other])).toMatchObject({
        reply: { code: 'account_not_owned', message: expect.stringContaining('another subject') },
      });
    });

    it('lets a user rename to a lookalike of their own name, and refuses a rename to a lookalike of someone else’s', () => {
      const me = user({ username: 'alice', externalId: 'sub-1' });
      const bob = user({ username: 'bob', externalId: 'sub-b' });
      expect(decide(request({ username: 'ALICE' }), [me, bob])).toMatchObject({ account: { username: 'ALICE' } });
      expect(decide(request({ username: '\u0430lice' }), [me, bob])).toMatchObject({ account: { id: me.id, username: '\u0430lice' } });
      expect(decide(request({ username: 'b\u043Eb' }), [me, bob])).toMatchObject({
        reply: { code: 'name_refused', message: expect.stringContaining('looks like the existing user') },
      });
    });
  });

  describe('the email', () => {
    it('links by email only when matchOn says so, and only an account this source may link', () => {
      const made = user({ username: 'a.smith', email: 'Alice@Example.org', externalId: null });
      expect(decide(request(), [made])).toMatchObject({ created: true, account: { email: null } });
      expect(decide(request({ matchOn: ['email'] }), [made])).toMatchObject({
        created: false,
        account: { id: made.id, username: 'alice', email: 'alice@example.org', externalId: 'sub-1' },
      });
    });

    it('does not link an account matched by email that is not its to link: a new user without the address, one notice (not two)', () => {
      const theirs = user({ username: 'a.smith', email: 'alice@example.org', source: 'other', externalId: 'o-1' });
      const decided = decide(request({ matchOn: ['username', 'email'] }), [theirs]);
      expect(decided).toMatchObject({ created: true, account: { email: null } });
      expect('notices' in decided && decided.notices).toEqual([
        { code: 'account_not_claimed', name: 'a.smith', reason: expect.stringContaining('another source (other)') },
      ]);
    });

    it('does not store an address another account holds: a notice names the holder (a new user, or a known one left without it)', () => {
      const holder = user({ username: 'bob', email: 'alice@example.org', externalId: 'sub-b' });
      const fresh = decide(request(), [holder]);
      expect(fresh).toMatchObject({ created: true, account: { email: null }, notices: [emailTaken('alice@example.org', holder, true)] });
      const known = user({ username: 'alice', email: 'old@example.org', externalId: 'sub-1' });
      expect(decide(request(), [holder, known])).toMatchObject({
        account: { email: null },
        notices: [{ code: 'email_taken', reason: expect.stringContaining('the user is left with no email') }],
      });
    });

    it('keeps the user’s own address whatever its case, and a linked account’s own address', () => {
      const known = user({ username: 'alice', email: 'Alice@Example.org', externalId: 'sub-1' });
      expect(decide(request(), [known])).toMatchObject({ account: { email: 'alice@example.org' }, notices: [] });
      const made = user({ username: 'alice', email: 'alice@example.org', externalId: null });
      expect(decide(request(), [made])).toMatchObject({ account: { id: made.id, email: 'alice@example.org' }, notices: [] });
    });
  });

  it('keeps the notices it was given (the screened ones) and adds its own', () => {
    const screened: ProvisioningNotice = { code: 'value_refused', name: 'displayName', reason: 'x' };
    const holder = user({ username: 'bob', email: 'alice@example.org', externalId: 'sub-b' });
    expect(decide(request(), [holder], [screened])).toMatchObject({ notices: [screened, { code: 'email_taken' }] });
  });
});

describe('groupChanges: memberships in the source’s groups follow the login', () => {
  it('joins its own groups, creates missing ones (a notice: the IdP owns the name from now on), and answers every group the user is in', () => {
    const devs = group('devs');
    const decided = groupChanges(groupFacts(login({ groups: ['Devs', 'ops'] }), [devs]));
    expect(kinds(decided.changes)).toEqual(['group.create ops', 'membership.add devs', 'membership.add ops']);
    expect(decided.created).toEqual([expect.objectContaining({ id: 'new-g1', name: 'ops', nameLower: 'ops', source: 'kc', createdAt: now })]);
    expect(decided.notices).toEqual([{ code: 'group_created', name: 'ops', reason: expect.stringContaining('owned by kc') }]);
    expect(sortedNames(decided.groups)).toEqual(['devs', 'ops']);
    expect(decided.changed).toBe(true);
  });

  it('creates nothing when the mapping says not to, and changes nothing for groups it is in already', () => {
    const devs = group('devs');
    const decided = groupChanges(groupFacts(login({ groups: ['devs', 'ops'], createMissingGroups: false }), [devs], [devs]));
    expect(decided).toMatchObject({ changes: [], changed: false, notices: [], groups: [devs] });
  });

  it('never joins another source’s group or an ungranted local one (a notice each); joins a granted local group', () => {
    const theirs = group('admins', 'other');
    const staff = group('staff', 'local');
    const wiki = group('wiki', 'local');
    const decided = groupChanges(groupFacts(login({ groups: ['admins', 'staff', 'Wiki'], grantLocalGroups: ['WIKI'] }), [theirs, staff, wiki]));
    expect(kinds(decided.changes)).toEqual(['membership.add wiki']);
    expect(decided.notices).toEqual([
      { code: 'group_not_owned', name: 'admins', reason: 'not joined: owned by other' },
      { code: 'group_not_owned', name: 'staff', reason: expect.stringContaining('not in grantLocalGroups') },
    ]);
  });

  it('says nothing of a refused group the user is in already (an admin put them there)', () => {
    const theirs = group('admins', 'other');
    expect(groupChanges(groupFacts(login({ groups: ['admins'] }), [theirs], [theirs])).notices).toEqual([]);
  });

  it('leaves only the source’s own groups the login no longer asserts: local and other sources’ groups stay; an absent groups claim leaves none', () => {
    const own = group('old');
    const local = group('wiki', 'local');
    const theirs = group('admins', 'other');
    const decided = groupChanges(groupFacts(login({ groups: [] }), [], [own, local, theirs]));
    expect(kinds(decided.changes)).toEqual(['membership.remove old']);
    expect(decided.groups).toEqual([local, theirs]);
    expect(groupChanges(groupFacts(login({ groups: [], absent: ['groups'] }), [], [own, local])).changes).toEqual([]);
  });

  it('creates no group whose name looks like an existing group’s or like another new one of the same login (a notice each)', () => {
    const admins = group('admins', 'other');
    const decided = groupChanges(groupFacts(login({ groups: ['\u0430dmins', 'ops', '0ps', 'ＯＰＳ'] }), [admins]));
    expect(kinds(decided.changes)).toEqual(['group.create ops', 'membership.add ops']);
    expect(decided.notices.filter((n) => n.code === 'name_refused')).toEqual([
      { code: 'name_refused', name: '\u0430dmins', reason: expect.stringContaining('looks like the existing group') },
      { code: 'name_refused', name: '0ps', reason: expect.stringContaining('looks like the existing group') },
      { code: 'name_refused', name: 'ＯＰＳ', reason: expect.stringContaining('looks like the existing group') },
    ]);
  });

  it('joins an existing group by any case of its name, never one that only looks like it (Cyrillic і)', () => {
    const admins = group('Admins');
    const decided = groupChanges(groupFacts(login({ groups: ['ADMINS', 'Adm\u0456ns'] }), [admins]));
    expect(kinds(decided.changes)).toEqual(['membership.add Admins']);
    expect(decided.notices).toEqual([{ code: 'name_refused', name: 'Adm\u0456ns', reason: expect.stringContaining('looks like the existing group') }]);
  });

  it('does not change the notices it was given', () => {
    const given: ProvisioningNotice[] = [];
    groupChanges({ ...groupFacts(login({ groups: ['ops'] }), []), notices: given });
    expect(given).toEqual([]);
  });
});

describe('defaultGroupChanges: a new user’s default groups', () => {
  it('creates missing ones as local groups and joins local and the source’s own; another source’s never (a notice)', () => {
    const own = group('devs');
    const theirs = group('admins', 'other');
    const decided = defaultGroupChanges({ ...groupFacts(login({ newUserGroups: ['everyone', 'devs', 'admins'] }), [own, theirs]), createdBefore: [] });
    expect(kinds(decided.changes)).toEqual(['group.create everyone', 'membership.add devs', 'membership.add everyone']);
    expect(decided.created[0]).toMatchObject({ name: 'everyone', source: 'local' });
    expect(decided.notices).toEqual([{ code: 'group_not_owned', name: 'admins', reason: 'not joined: owned by other' }]);
  });

  it('joins a group the login asserted and created once, and creates none that looks like it', () => {
    const req = login({ groups: ['ops'], newUserGroups: ['OPS', '0ps'] });
    const managed = groupChanges(groupFacts(req, []));
    const decided = defaultGroupChanges({ ...groupFacts(req, []), current: managed.groups, createdBefore: managed.created, notices: managed.notices });
    expect(decided.changes).toEqual([]);
    expect(decided.notices.map((n) => n.code)).toEqual(['group_created', 'name_refused']);
    expect(sortedNames(decided.groups)).toEqual(['ops']);
  });
});

describe('propertyChanges', () => {
  it('sets only the asserted values that differ (a list in another order is the same), with the value before', () => {
    const stored = new Map<string, string | string[]>([
      ['dept', 'ops'],
      ['teams', ['a', 'b']],
      ['site', 'x'],
    ]);
    expect(propertyChanges('u', { dept: 'ops', teams: ['b', 'a'], site: 'y', level: '3' }, stored)).toEqual([
      { kind: 'property.set', userId: 'u', key: 'site', before: 'x', value: 'y' },
      { kind: 'property.set', userId: 'u', key: 'level', before: undefined, value: '3' },
    ]);
  });
});

describe('the repeat login that changes nothing (the hot path)', () => {
  const known = () => user({ username: 'alice', email: 'alice@example.org', displayName: 'Alice', externalId: 'sub-1' });
  const devs = { name: 'devs', nameLower: 'devs', source: 'kc' };
  const wiki = { name: 'wiki', nameLower: 'wiki', source: 'local' };

  it('is unchanged when the fields, the source’s groups and the asserted properties are as stored', () => {
    expect(repeatLogin(request({ groups: ['Devs'], properties: { teams: ['b', 'a'] } }), known(), [devs, wiki], new Map([['teams', ['a', 'b']]]))).toEqual({
      missing: [],
    });
    expect(repeatLogin(request({ username: undefined, email: null, absent: ['username', 'email'] }), known(), [], new Map())).toEqual({ missing: [] });
  });

  it('takes the full path for a new or disabled user, a changed field, a changed property, or an own group to leave', () => {
    expect(repeatLogin(request(), undefined, [], new Map())).toBeUndefined();
    expect(repeatLogin(request(), { ...known(), active: false }, [], new Map())).toBeUndefined();
    expect(repeatLogin(request({ displayName: 'Alice B' }), known(), [], new Map())).toBeUndefined();
    expect(repeatLogin(request({ email: 'ALICE@example.org' }), known(), [], new Map())).toBeUndefined();
    expect(repeatLogin(request({ properties: { dept: 'ops' } }), known(), [], new Map())).toBeUndefined();
    expect(repeatLogin(request({ groups: [] }), known(), [devs], new Map())).toBeUndefined();
    // An absent groups claim leaves no group: still unchanged.
    expect(repeatLogin(request({ groups: [], absent: ['groups'] }), known(), [devs], new Map())).toEqual({ missing: [] });
  });

  it('judges the asserted groups the user is not in: unchanged only if none is to join or create', () => {
    const req = (over: Partial<ProvisionRequest> = {}) => request({ groups: ['devs', 'admins'], ...over });
    const u = known();
    expect(repeatLogin(req(), u, [devs], new Map())).toEqual({ missing: ['admins'] });
    const theirs = groupsLike([group('admins', 'other')]);
    expect(unchangedReply(req(), u, [devs], ['admins'], theirs, [])).toEqual({
      status: 'provisioned',
      user: { id: u.id, username: 'alice', email: 'alice@example.org', displayName: 'Alice', active: true },
      groups: ['devs'],
      created: false,
      changed: false,
      notices: [{ code: 'group_not_owned', name: 'admins', reason: 'not joined: owned by other' }],
    });
    expect(unchangedReply(req(), u, [devs], ['admins'], groupsLike([group('admins')]), [])).toBeUndefined();
    expect(unchangedReply(req({ grantLocalGroups: ['admins'] }), u, [devs], ['admins'], groupsLike([group('admins', 'local')]), [])).toBeUndefined();
    // Missing and to be created: the full path; not to be created: nothing to join.
    expect(unchangedReply(req(), u, [devs], ['admins'], groupsLike([]), [])).toBeUndefined();
    expect(unchangedReply(req({ createMissingGroups: false }), u, [devs], ['admins'], groupsLike([]), [])).toMatchObject({ changed: false });
    // Looks like an existing group: never created, so unchanged, with a notice.
    expect(unchangedReply(req({ groups: ['devs', '\u0430dmins'] }), u, [devs], ['\u0430dmins'], groupsLike([group('admins', 'other')]), [])).toMatchObject({
      notices: [{ code: 'name_refused', name: '\u0430dmins' }],
    });
  });
});

describe('resolveAccount (Manual, User Sync logins): an account found by username', () => {
  const resolve = (over: Record<string, unknown> = {}) =>
    DirectoryRpc.resolveUser.request.parse({ source: 'kc', externalId: 'sub-1', username: 'alice', ...over });

  it('uses the source’s own account and links one without a subject when subjects key the users (not on a dry run)', () => {
    const made = user({ username: 'alice', externalId: null });
    expect(resolveAccount(made, resolve({ subjectKeysUsers: false }))).toEqual({ link: false });
    expect(resolveAccount(made, resolve())).toEqual({ link: true });
    expect(resolveAccount(made, resolve({ subjectKeysUsers: true, dryRun: true }))).toEqual({ link: false });
  });

  it('refuses a protected account, another source’s, and one linked to another subject when subjects key the users', () => {
    expect(resolveAccount(user({ username: 'alice', protected: true }), resolve())).toMatchObject({
      refused: { status: 'refused', code: 'account_not_owned' },
    });
    expect(resolveAccount(user({ username: 'alice', source: 'other' }), resolve())).toMatchObject({
      refused: { reason: expect.stringContaining('another source') },
    });
    const linked = user({ username: 'alice', externalId: 'sub-old' });
    expect(resolveAccount(linked, resolve({ subjectKeysUsers: false }))).toEqual({ link: false });
    expect(resolveAccount(linked, resolve())).toMatchObject({ refused: { reason: expect.stringContaining('another subject') } });
  });

  it('lets the directory’s own sign-in use a protected local account', () => {
    expect(
      resolveAccount(
        user({ username: 'root', source: 'local', externalId: 'break-glass:root', protected: true }),
        resolve({ source: 'local', externalId: 'break-glass:root', username: 'root' }),
      ),
    ).toEqual({ link: false });
  });
});

describe('the reply’s pieces', () => {
  it('lists each notice once (any case of its name), in a stable order, capped; none at all when there are none', () => {
    const n = (code: ProvisioningNotice['code'], name: string): ProvisioningNotice => ({ code, name, reason: 'r' });
    expect(withNotices([])).toEqual({});
    expect(withNotices([n('group_not_owned', 'B'), n('group_created', 'a'), n('group_not_owned', 'b')]).notices).toEqual([
      n('group_created', 'a'),
      n('group_not_owned', 'b'),
    ]);
    expect(withNotices(Array.from({ length: 150 }, (_, i) => n('name_refused', `g${i}`))).notices).toHaveLength(100);
  });

  it('takes the caller’s login time, never one in the future', () => {
    expect(loginTime({ loginAt: earlier.toISOString() }, now)).toEqual(earlier);
    expect(loginTime({ loginAt: '2030-01-01T00:00:00Z' }, now)).toBe(now);
    expect(loginTime({}, now)).toBe(now);
  });
});
