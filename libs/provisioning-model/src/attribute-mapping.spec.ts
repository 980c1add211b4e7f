import { absentNotices, noUsernameReason, applyGroupRules, groupName, KEYCLOAK_DEFAULT_MAPPING, mapGroups, mapIdentity, regexProblem } from './index';

describe('mapIdentity with the Keycloak defaults', () => {
  const attributes = {
    email: ['Alice@Example.com'],
    firstName: ['Alice'],
    lastName: ['Liddell'],
    groups: ['/engineering/backend', '/staff', '/staff'],
  };

  it('maps NameID, email, display name and groups', () => {
    expect(
      mapIdentity('Alice', attributes, KEYCLOAK_DEFAULT_MAPPING, { protocol: 'saml', subjectFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified' }),
    ).toEqual({
      ok: true,
      identity: {
        username: 'alice',
        usernameFrom: 'nameId',
        email: 'alice@example.com',
        displayName: 'Alice Liddell',
        groups: ['engineering/backend', 'staff'],
        newUserGroups: [],
        properties: {},
        absent: [],
      },
    });
  });

  it('prefers an explicit display name and ignores a malformed email', () => {
    const r = mapIdentity('bob', { displayName: ['Bobby B'], email: ['not-an-email'] });
    expect(r).toMatchObject({ ok: true, identity: { displayName: 'Bobby B', email: null, groups: [] } });
  });

  it('takes the username from the email local part when configured', () => {
    const mapping = { ...KEYCLOAK_DEFAULT_MAPPING, username: { source: 'emailLocalPart' as const, lowercase: true } };
    expect(mapIdentity('f81d4fae', attributes, mapping)).toMatchObject({ ok: true, identity: { username: 'alice' } });
  });

  it('maps no username when the username attribute is absent and no fallback applies (a known user keeps theirs; the directory refuses a new one)', () => {
    const mapping = { ...KEYCLOAK_DEFAULT_MAPPING, username: { source: 'attribute' as const, attribute: 'uid', lowercase: false } };
    expect(mapIdentity('x', attributes, mapping)).toMatchObject({ ok: true, identity: { username: null, absent: ['username'] } });
    expect(noUsernameReason(mapping)).toContain("attribute 'uid'");
    // An OIDC email sent without email_verified true: the reason says that, not "send the claim".
    const withEmail = { ...mapping, username: { ...mapping.username, fallback: ['email' as const] } };
    expect(noUsernameReason(withEmail, { protocol: 'oidc', attributes: { email: ['x@y.io'], email_verified: ['false'] } })).toMatch(
      /not email_verified true, and an unverified email names nobody/,
    );
    expect(noUsernameReason(withEmail, { protocol: 'oidc', attributes: {} })).toMatch(/send the claim/);
  });

  it('rewrites the username with a regex and capture groups', () => {
    const mapping = {
      ...KEYCLOAK_DEFAULT_MAPPING,
      username: { source: 'subject' as const, lowercase: true, replace: { pattern: '^(.+)@corp\\.example$', replacement: 'corp-$1' } },
    };
    expect(mapIdentity('Ann@Corp.Example', {}, mapping)).toMatchObject({ ok: true, identity: { username: 'corp-ann' } });
    const emptying = { ...KEYCLOAK_DEFAULT_MAPPING, username: { source: 'subject' as const, lowercase: false, replace: { pattern: '.*', replacement: '' } } };
    expect(mapIdentity('x', {}, emptying)).toMatchObject({ ok: false, code: 'no_username' });
  });

  it('refuses control characters in the username', () => {
    expect(
      mapIdentity('ali\u0000ce', {}, KEYCLOAK_DEFAULT_MAPPING, { protocol: 'saml', subjectFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified' }),
    ).toMatchObject({ ok: false, code: 'invalid_identity' });
  });

  it('an OIDC subject never names a user; a SAML NameID without a format is unspecified (SAML Core 8.3.1), as Keycloak sends usernames', () => {
    expect(mapIdentity('AAdzZWNyZXQx-opaque', {}, KEYCLOAK_DEFAULT_MAPPING, { protocol: 'oidc' })).toMatchObject({ ok: true, identity: { username: null } });
    expect(mapIdentity('alice', {}, KEYCLOAK_DEFAULT_MAPPING, { protocol: 'saml' })).toMatchObject({ ok: true, identity: { username: 'alice' } });
    // A user keyed on an attribute (subjectAttribute) is keyed on an id: never a username (attacker review).
    expect(
      mapIdentity('f81d4fae-7dec-11d0-a765-00a0c91e6bf6', {}, KEYCLOAK_DEFAULT_MAPPING, { protocol: 'saml', subjectFormat: 'attribute:kcid' }),
    ).toMatchObject({ ok: true, identity: { username: null } });
  });

  it('does not read inherited properties as attributes', () => {
    const attrs = JSON.parse('{"__proto__": {"email": ["evil@example.com"]}}');
    expect(mapIdentity('carol', attrs)).toMatchObject({ ok: true, identity: { email: null } });
    expect(mapIdentity('carol', Object.create({ email: ['evil@example.com'] }))).toMatchObject({ ok: true, identity: { email: null } });
  });

  it('leaves out a property over the limits (thousands of self-edited values) and signs the user in', () => {
    const mapping = { ...KEYCLOAK_DEFAULT_MAPPING, properties: { department: 'dept', roles: 'roles' } };
    const result = mapIdentity('a', { dept: ['R&D'], roles: Array.from({ length: 1001 }, (_, i) => `r${i}`) }, mapping);
    expect(result).toMatchObject({ ok: true, identity: { properties: { department: 'R&D' } } });
    expect(result.ok && Object.keys(result.identity.properties)).toEqual(['department']);
  });

  it('maps extra attributes to properties', () => {
    const mapping = { ...KEYCLOAK_DEFAULT_MAPPING, properties: { department: 'dept' } };
    expect(mapIdentity('a', { dept: ['R&D'] }, mapping)).toMatchObject({ ok: true, identity: { properties: { department: 'R&D' } } });
  });

  it('keeps every value of a multi-valued attribute as a list (one value stays a string), as User Sync does', () => {
    const mapping = { ...KEYCLOAK_DEFAULT_MAPPING, properties: { roles: 'role', department: 'dept' } };
    expect(mapIdentity('a', { role: ['dev', ' ops ', 'dev', ''], dept: [' R&D'] }, mapping)).toMatchObject({
      ok: true,
      identity: { properties: { roles: ['dev', 'ops'], department: 'R&D' } },
    });
    expect(mapIdentity('a', { role: ['  '] }, mapping)).toMatchObject({ ok: true, identity: { properties: {} } });
  });
});

describe('group rules', () => {
  const groups = { attribute: ['groups'], naming: 'path' as const };

  it('renames with capture groups, drops, and keeps by the first matching rule', () => {
    const rules = [
      { match: '^engineering/(.+)$', rename: 'dev-$1' },
      { match: '^contractors$', action: 'drop' as const },
    ];
    expect(mapGroups({ groups: ['/engineering/backend', '/contractors', '/staff'] }, { ...groups, rules })).toEqual(['dev-backend', 'staff']);
    expect(mapGroups({ groups: ['/engineering/backend', '/staff'] }, { ...groups, rules, skipUnmatched: true })).toEqual(['dev-backend']);
    expect(applyGroupRules('x', [{ match: 'x', action: 'keep' }], true)).toBe('x');
  });

  it('refuses a user in none of the required groups', () => {
    const mapping = { ...KEYCLOAK_DEFAULT_MAPPING, groups: { ...groups, required: ['Staff'] } };
    expect(mapIdentity('a', { groups: ['/staff'] }, mapping)).toMatchObject({ ok: true });
    expect(mapIdentity('b', { groups: ['/contractors'] }, mapping)).toEqual({
      ok: false,
      code: 'required_group_missing',
      reason: 'b is in none of the groups required to sign in (Staff)',
    });
  });

  it('adds default groups: for every user in groups, for new users apart', () => {
    const r = mapIdentity(
      'a',
      { groups: ['/staff'] },
      { ...KEYCLOAK_DEFAULT_MAPPING, groups: { ...groups, defaultForAll: ['jira-users'], defaultForNew: ['onboarding'] } },
    );
    expect(r).toMatchObject({ ok: true, identity: { groups: ['jira-users', 'staff'], newUserGroups: ['onboarding'] } });
  });
});

describe('group naming', () => {
  it.each([
    ['/engineering/backend', 'path', 'engineering/backend'],
    ['/engineering/backend', 'leaf', 'backend'],
    ['staff', 'path', 'staff'],
    ['/', 'path', undefined],
  ] as const)('%s as %s → %s', (raw, naming, expected) => {
    expect(groupName(raw, naming)).toBe(expected);
  });

  it('dedupes and sorts across attributes', () => {
    expect(mapGroups({ memberOf: ['b', 'a'], groups: ['/a'] }, { attribute: ['groups', 'memberOf'], naming: 'path' })).toEqual(['a', 'b']);
  });
});

describe('regular expressions in mapping rules run in linear time', () => {
  // Catastrophic for a backtracking engine: ^(a+)+$ took about a second at 28 characters, doubling per character.
  const catastrophic = ['^(a+)+$', '(a|a)*$', '(x+x+)+y', '^(\\w+\\s?)*$', '^([a-z0-9]+[-_.]?)*[a-z0-9]+$'];
  const attack = (n: number) => `${'a'.repeat(n)}!`;
  const timed = <T>(work: () => T): [T, number] => {
    const started = process.hrtime.bigint();
    const result = work();
    return [result, Number(process.hrtime.bigint() - started) / 1e6];
  };

  it.each(catastrophic)('group rule %s answers at once, even on a long name', (match) => {
    const groups = { attribute: ['groups'], naming: 'path' as const, rules: [{ match, action: 'drop' as const }] };
    const [, shortMs] = timed(() => mapGroups({ groups: [attack(27)] }, groups));
    expect(shortMs).toBeLessThan(50);
    const [, longMs] = timed(() => mapGroups({ groups: [attack(200)] }, groups));
    expect(longMs).toBeLessThan(50);
  });

  it.each(catastrophic)('username replacement %s answers at once', (pattern) => {
    const mapping = { ...KEYCLOAK_DEFAULT_MAPPING, username: { source: 'subject' as const, lowercase: false, replace: { pattern, replacement: 'x' } } };
    const [result, ms] = timed(() => mapIdentity(attack(27), {}, mapping));
    expect(ms).toBeLessThan(50);
    expect(result).toMatchObject({ ok: true });
  });

  it('keeps what admins use: anchors, classes, capture groups in renames and replacements, named groups', () => {
    expect(applyGroupRules('eng/web', [{ match: '^eng/(?<team>[a-z]+)$', rename: 'dev-$<team>' }])).toBe('dev-web');
    expect(applyGroupRules('team-42', [{ match: '^team-\\d+$', action: 'drop' }])).toBeUndefined();
    const mapping = {
      ...KEYCLOAK_DEFAULT_MAPPING,
      username: { source: 'subject' as const, lowercase: true, replace: { pattern: '^(.+)@corp\\.example$', replacement: '$1' } },
    };
    expect(mapIdentity('Ann@Corp.Example', {}, mapping)).toMatchObject({ ok: true, identity: { username: 'ann' } });
  });

  it.each([
    ['^(a)\\1$', 'backreference'],
    ['^(?!admin).*$', 'lookahead'],
    ['(?<=x)y', 'lookbehind'],
    ['(', 'not a valid regular expression'],
  ])('names what it cannot run: %s', (pattern, why) => {
    expect(regexProblem(pattern)).toEqual(expect.stringContaining(why));
  });

  it('accepts the patterns it can run', () => {
    for (const p of ['^(.+)@corp\\.example$', '^eng/(.+)$', '^(a+)+$', '[^\\x00-\\x7f]', 'ä|ö']) expect(regexProblem(p)).toBeUndefined();
  });

  it('refuses a login whose mapping (saved before regexes were checked) holds a pattern it cannot run, rather than skip the rule', () => {
    const drop = {
      ...KEYCLOAK_DEFAULT_MAPPING,
      groups: { attribute: ['groups'], naming: 'path' as const, rules: [{ match: '^(?!jira-)', action: 'drop' as const }] },
    };
    expect(mapIdentity('a', { groups: ['/jira-admins'] }, drop)).toEqual({
      ok: false,
      code: 'invalid_identity',
      reason: expect.stringContaining('groups.rules.0.match'),
    });
    const replace = { ...KEYCLOAK_DEFAULT_MAPPING, username: { source: 'subject' as const, lowercase: true, replace: { pattern: '(a)\\1', replacement: '' } } };
    expect(mapIdentity('aa', {}, replace)).toEqual({ ok: false, code: 'invalid_identity', reason: expect.stringContaining('username.replace.pattern') });
  });
});

describe('an absent claim is not an empty value (issue 27)', () => {
  const full = { preferred_username: ['Alice'], email: ['alice@example.com'], given_name: ['Alice'], family_name: ['Liddell'], groups: ['/staff'] };

  it('marks nothing absent when the login carries every claim', () => {
    expect(mapIdentity('f81d4fae', full, KEYCLOAK_DEFAULT_MAPPING, { protocol: 'oidc' })).toMatchObject({
      ok: true,
      identity: { username: 'alice', absent: [] },
    });
  });

  it('an OIDC login with only sub (userinfo off) asserts nothing: no username, every profile field absent, never the opaque sub', () => {
    const r = mapIdentity('f81d4fae-7dec-11d0-a765-00a0c91e6bf6', {}, KEYCLOAK_DEFAULT_MAPPING, { protocol: 'oidc' });
    // Groups are authoritative by default: a login without them leaves no managed group (revocation wins).
    expect(r).toMatchObject({
      ok: true,
      identity: { username: null, email: null, displayName: null, groups: [], absent: ['username', 'email', 'displayName'] },
    });
  });

  it('a SAML login with no attributes keeps everything but may name a new user by a readable NameID', () => {
    const r = mapIdentity('alice', {}, KEYCLOAK_DEFAULT_MAPPING, { protocol: 'saml', subjectFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified' });
    // The NameID (format unspecified) is the IdP's name for the person: present, not absent.
    expect(r).toMatchObject({ ok: true, identity: { username: 'alice', usernameFrom: 'nameId', absent: ['email', 'displayName'] } });
  });

  it('never takes a persistent or transient NameID as a username by default', () => {
    for (const format of ['urn:oasis:names:tc:SAML:2.0:nameid-format:persistent', 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient']) {
      expect(mapIdentity('_9f2c1e', {}, KEYCLOAK_DEFAULT_MAPPING, { protocol: 'saml', subjectFormat: format })).toMatchObject({
        ok: true,
        identity: { username: null },
      });
    }
  });

  it('without preferred_username the username is the verified email, not the sub (a fallback: a known user keeps theirs)', () => {
    const r = mapIdentity('f81d4fae', { email: ['Bob@Example.com'], email_verified: ['true'] }, KEYCLOAK_DEFAULT_MAPPING, { protocol: 'oidc' });
    expect(r).toMatchObject({ ok: true, identity: { username: 'bob@example.com', email: 'bob@example.com', absent: ['username', 'displayName'] } });
    // An email the OIDC IdP did not verify names nobody (attacker review: anyone may type one).
    for (const verified of [['false'], undefined]) {
      expect(
        mapIdentity('f81d4fae', { email: ['Bob@Example.com'], ...(verified ? { email_verified: verified } : {}) }, KEYCLOAK_DEFAULT_MAPPING, {
          protocol: 'oidc',
        }),
      ).toMatchObject({ ok: true, identity: { username: null } });
    }
  });

  it('an attribute the mapping calls authoritative is empty when a login leaves it out, a bare login (scope=openid alone) too', () => {
    const mapping = { ...KEYCLOAK_DEFAULT_MAPPING, authoritative: ['groups' as const, 'email' as const] };
    expect(mapIdentity('s', { preferred_username: ['alice'] }, mapping, { protocol: 'oidc' })).toMatchObject({
      ok: true,
      identity: { groups: [], email: null, absent: ['displayName'] },
    });
    expect(mapIdentity('s', {}, mapping, { protocol: 'oidc' })).toMatchObject({ ok: true, identity: { groups: [], absent: ['username', 'displayName'] } });
  });

  it("refuses a login whose IdP left the groups out for being too many (Entra's overage), instead of guessing", () => {
    const overages: Record<string, string[]>[] = [
      { _claim_names: ['groups'] },
      { hasgroups: ['true'] },
      { 'http://schemas.microsoft.com/claims/groups.link': ['https://graph.microsoft.com/x'] },
    ];
    for (const overage of overages) {
      expect(mapIdentity('s', { preferred_username: ['a'], ...overage }, KEYCLOAK_DEFAULT_MAPPING, { protocol: 'oidc' })).toMatchObject({
        ok: false,
        code: 'invalid_identity',
        reason: expect.stringContaining('too many to list'),
      });
    }
  });

  it('the Keycloak default treats groups as authoritative (Keycloak leaves the attribute out for a user in no group)', () => {
    expect(mapIdentity('alice', { email: ['alice@example.com'] }, KEYCLOAK_DEFAULT_MAPPING, { protocol: 'saml' })).toMatchObject({
      ok: true,
      identity: { groups: [], absent: ['displayName'] },
    });
  });

  it('an attribute sent empty is a value: groups sent with no values remove the managed groups', () => {
    expect(mapIdentity('s', { preferred_username: ['a'], groups: [] }, { ...KEYCLOAK_DEFAULT_MAPPING, authoritative: [] }, { protocol: 'oidc' })).toMatchObject(
      { ok: true, identity: { groups: [], absent: ['email', 'displayName'] } },
    );
  });

  it('says what was absent, for the trace', () => {
    const r = mapIdentity('s', {}, KEYCLOAK_DEFAULT_MAPPING, { protocol: 'oidc' });
    if (!r.ok) throw new Error('mapped');
    expect(absentNotices(r.identity, KEYCLOAK_DEFAULT_MAPPING)).toEqual([
      { code: 'claim_absent', name: 'username', reason: expect.stringContaining('preferred_username') },
      { code: 'claim_absent', name: 'email', reason: expect.stringContaining('email') },
      { code: 'claim_absent', name: 'displayName', reason: expect.stringContaining('given_name') },
    ]);
  });

  it('a legacy mapping with fallbackToSubject still names a new user by the subject, as a fallback', () => {
    const mapping = {
      ...KEYCLOAK_DEFAULT_MAPPING,
      username: { source: 'attribute' as const, attribute: 'preferred_username', fallbackToSubject: true, lowercase: true },
    };
    expect(mapIdentity('F81D', {}, mapping, { protocol: 'oidc' })).toMatchObject({
      ok: true,
      identity: { username: 'f81d', absent: expect.arrayContaining(['username']) },
    });
  });

  it('tries several username attributes in order', () => {
    const mapping = { ...KEYCLOAK_DEFAULT_MAPPING, username: { source: 'attribute' as const, attribute: ['upn', 'preferred_username'], lowercase: true } };
    expect(mapIdentity('s', { preferred_username: ['b'], upn: ['A@corp'] }, mapping)).toMatchObject({ ok: true, identity: { username: 'a@corp' } });
    expect(mapIdentity('s', { preferred_username: ['b'] }, mapping)).toMatchObject({ ok: true, identity: { username: 'b', absent: ['email', 'displayName'] } });
  });
});

describe('absent notices stay quiet where nothing is missing', () => {
  it("a Keycloak SAML login (the username is the NameID, as Keycloak's client sends it) says nothing is absent", () => {
    const r = mapIdentity('alice', { email: ['alice@example.com'], firstName: ['Alice'], lastName: ['L'], groups: ['/staff'] }, KEYCLOAK_DEFAULT_MAPPING, {
      protocol: 'saml',
      subjectFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
    });
    if (!r.ok) throw new Error('mapped');
    expect(r.identity).toMatchObject({ username: 'alice', usernameFrom: 'nameId' });
    expect(absentNotices(r.identity, KEYCLOAK_DEFAULT_MAPPING)).toEqual([]);
  });

  it('a username from the email is said (the login lacked the username claim)', () => {
    const r = mapIdentity('sub', { email: ['b@example.com'], email_verified: ['true'], name: ['B'], groups: [] }, KEYCLOAK_DEFAULT_MAPPING, {
      protocol: 'oidc',
    });
    if (!r.ok) throw new Error('mapped');
    expect(r.identity.usernameFrom).toBe('email');
    expect(absentNotices(r.identity, KEYCLOAK_DEFAULT_MAPPING)).toEqual([
      { code: 'claim_absent', name: 'username', reason: expect.stringContaining('b@example.com (fallback)') },
    ]);
  });
});
