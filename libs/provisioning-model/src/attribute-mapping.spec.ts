import { applyGroupRules, groupName, KEYCLOAK_DEFAULT_MAPPING, mapGroups, mapIdentity, regexProblem } from './index';

describe('mapIdentity with the Keycloak defaults', () => {
  const attributes = {
    email: ['Alice@Example.com'],
    firstName: ['Alice'],
    lastName: ['Liddell'],
    groups: ['/engineering/backend', '/staff', '/staff'],
  };

  it('maps NameID, email, display name and groups', () => {
    expect(mapIdentity('Alice', attributes)).toEqual({
      ok: true,
      identity: {
        username: 'alice',
        email: 'alice@example.com',
        displayName: 'Alice Liddell',
        groups: ['engineering/backend', 'staff'],
        newUserGroups: [],
        properties: {},
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

  it('refuses a login whose mapping yields no username', () => {
    const mapping = { ...KEYCLOAK_DEFAULT_MAPPING, username: { source: 'attribute' as const, attribute: 'uid', lowercase: false } };
    expect(mapIdentity('x', attributes, mapping)).toEqual({
      ok: false,
      code: 'no_username',
      reason: "the mapping (username from attribute 'uid') produced no username",
    });
  });

  it('rewrites the username with a regex and capture groups', () => {
    const mapping = { ...KEYCLOAK_DEFAULT_MAPPING, username: { source: 'subject' as const, lowercase: true, replace: { pattern: '^(.+)@corp\\.example$', replacement: 'corp-$1' } } };
    expect(mapIdentity('Ann@Corp.Example', {}, mapping)).toMatchObject({ ok: true, identity: { username: 'corp-ann' } });
    const emptying = { ...KEYCLOAK_DEFAULT_MAPPING, username: { source: 'subject' as const, lowercase: false, replace: { pattern: '.*', replacement: '' } } };
    expect(mapIdentity('x', {}, emptying)).toMatchObject({ ok: false, code: 'no_username' });
  });

  it('refuses control characters in the username', () => {
    expect(mapIdentity('ali\u0000ce', {})).toMatchObject({ ok: false, code: 'invalid_identity' });
  });

  it('does not read inherited properties as attributes', () => {
    const attrs = JSON.parse('{"__proto__": {"email": ["evil@example.com"]}}');
    expect(mapIdentity('carol', attrs)).toMatchObject({ ok: true, identity: { email: null } });
    expect(mapIdentity('carol', Object.create({ email: ['evil@example.com'] }))).toMatchObject({ ok: true, identity: { email: null } });
  });

  it('maps extra attributes to properties', () => {
    const mapping = { ...KEYCLOAK_DEFAULT_MAPPING, properties: { department: 'dept' } };
    expect(mapIdentity('a', { dept: ['R&D'] }, mapping)).toMatchObject({ ok: true, identity: { properties: { department: 'R&D' } } });
  });

  it('keeps every value of a multi-valued attribute as a list (one value stays a string), as User Sync does', () => {
    const mapping = { ...KEYCLOAK_DEFAULT_MAPPING, properties: { roles: 'role', department: 'dept' } };
    expect(mapIdentity('a', { role: ['dev', ' ops ', 'dev', ''], dept: [' R&D'] }, mapping)).toMatchObject({ ok: true, identity: { properties: { roles: ['dev', 'ops'], department: 'R&D' } } });
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
    expect(mapIdentity('b', { groups: ['/contractors'] }, mapping)).toEqual({ ok: false, code: 'required_group_missing', reason: 'b is in none of the groups required to sign in (Staff)' });
  });

  it('adds default groups: for every user in groups, for new users apart', () => {
    const r = mapIdentity('a', { groups: ['/staff'] }, { ...KEYCLOAK_DEFAULT_MAPPING, groups: { ...groups, defaultForAll: ['jira-users'], defaultForNew: ['onboarding'] } });
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
    const mapping = { ...KEYCLOAK_DEFAULT_MAPPING, username: { source: 'subject' as const, lowercase: true, replace: { pattern: '^(.+)@corp\\.example$', replacement: '$1' } } };
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
    const drop = { ...KEYCLOAK_DEFAULT_MAPPING, groups: { attribute: ['groups'], naming: 'path' as const, rules: [{ match: '^(?!jira-)', action: 'drop' as const }] } };
    expect(mapIdentity('a', { groups: ['/jira-admins'] }, drop)).toEqual({ ok: false, code: 'invalid_identity', reason: expect.stringContaining('groups.rules.0.match') });
    const replace = { ...KEYCLOAK_DEFAULT_MAPPING, username: { source: 'subject' as const, lowercase: true, replace: { pattern: '(a)\\1', replacement: '' } } };
    expect(mapIdentity('aa', {}, replace)).toEqual({ ok: false, code: 'invalid_identity', reason: expect.stringContaining('username.replace.pattern') });
  });
});
