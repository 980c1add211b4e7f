import { checkName } from '@bridgekeeper/names';
import { claimName, grantSet, groupRefused, groupUse, mayLinkAccount, mayUseAccount, releasedNames } from './ownership';

const account = (over: Partial<Parameters<typeof mayUseAccount>[0]> = {}) => ({
  username: 'alice',
  source: 'local',
  externalId: null,
  protected: false,
  ...over,
});

describe('mayUseAccount: which accounts a source may use besides those of its own subject', () => {
  it('uses an account an admin created for this source', () => {
    expect(mayUseAccount(account({ source: 'kc' }), { source: 'kc', claimLocalUsers: false })).toEqual({ ok: true });
  });

  it('claims a local account without an external id only when the admin allowed it', () => {
    expect(mayUseAccount(account(), { source: 'kc', claimLocalUsers: false })).toEqual({
      ok: false,
      reason: expect.stringContaining('claimLocalUsers is off'),
    });
    expect(mayUseAccount(account(), { source: 'kc', claimLocalUsers: true })).toEqual({ ok: true });
    expect(mayUseAccount(account({ externalId: 'x' }), { source: 'kc', claimLocalUsers: true })).toMatchObject({ ok: false });
  });

  it('never uses another source’s account', () => {
    expect(mayUseAccount(account({ source: 'other' }), { source: 'kc', claimLocalUsers: true })).toEqual({
      ok: false,
      reason: expect.stringContaining('another source (other)'),
    });
  });

  it('never uses a protected account, whatever the grant; only the directory’s own sign-in does', () => {
    expect(mayUseAccount(account({ protected: true }), { source: 'kc', claimLocalUsers: true })).toEqual({
      ok: false,
      reason: expect.stringContaining('protected'),
    });
    expect(mayUseAccount(account({ protected: true, source: 'kc' }), { source: 'kc', claimLocalUsers: true })).toMatchObject({ ok: false });
    expect(mayUseAccount(account({ protected: true }), { source: 'local', claimLocalUsers: false })).toEqual({ ok: true });
  });
});

describe('mayLinkAccount: linking the login’s subject (JIT)', () => {
  it('refuses an own account already linked to another subject: another person with the same name, or a subject changed at the IdP', () => {
    expect(mayLinkAccount(account({ source: 'kc', externalId: 'kc-1' }), { source: 'kc', externalId: 'kc-2', claimLocalUsers: false })).toEqual({
      ok: false,
      reason: expect.stringContaining('another subject'),
    });
    // Or the same person whose subject changed at the IdP: both subjects, and how to re-key.
    const { reason } = mayLinkAccount(
      { ...account({ source: 'kc', externalId: 'kc-1' }), id: 'u-1' },
      { source: 'kc', externalId: 'kc-2', claimLocalUsers: false },
    ) as { reason: string };
    expect(reason).toMatch(
      /subject kc-1 of kc;.*another subject \(kc-2\).*If the subject changed at the IdP.*confirm at the IdP that subject kc-1 is gone.*PATCH \/api\/v1\/users\/u-1 with \{"externalId":"kc-2"\}/,
    );
    // A subject with a quote in it is quoted as JSON: the advice cannot be pasted into another body.
    const quoted = mayLinkAccount(
      { ...account({ source: 'kc', externalId: 'kc-1' }), id: 'u-1' },
      { source: 'kc', externalId: 'x", "username": "admin', claimLocalUsers: false },
    ) as { reason: string };
    expect(quoted.reason).toContain('with {"externalId":"x\\", \\"username\\": \\"admin"}');
    expect(mayLinkAccount(account({ source: 'kc', externalId: 'kc-1' }), { source: 'kc', externalId: 'kc-1', claimLocalUsers: false })).toEqual({ ok: true });
    expect(mayLinkAccount(account({ source: 'kc' }), { source: 'kc', externalId: 'kc-1', claimLocalUsers: false })).toEqual({ ok: true });
  });
});

describe('groupUse: which groups a source may put its users in', () => {
  const group = (source: string, name = 'Jira-Admins') => ({ name, nameLower: name.toLowerCase(), source });

  it('its own groups, and local groups the admin granted (by name, any case)', () => {
    expect(groupUse(group('kc'), 'kc', grantSet([]))).toBe('own');
    expect(groupUse(group('local'), 'kc', grantSet(['JIRA-admins']))).toBe('granted');
    expect(groupUse(group('local'), 'kc', grantSet([]))).toBe('refused');
  });

  it('never another source’s group, even when its name is granted', () => {
    expect(groupUse(group('other'), 'kc', grantSet(['jira-admins']))).toBe('refused');
  });

  it('says why a group was refused', () => {
    expect(groupRefused('jira-admins', group('local'))).toEqual({
      code: 'group_not_owned',
      name: 'jira-admins',
      reason: expect.stringContaining('local group'),
    });
    expect(groupRefused('jira-admins', group('other'))).toEqual({ code: 'group_not_owned', name: 'jira-admins', reason: 'not joined: owned by other' });
  });
});

describe('claimName: a user of a source asks for a name another account holds', () => {
  const holder = (over: Partial<Parameters<typeof claimName>[0]> = {}) => ({ ...account({ source: 'kc', externalId: 'old-id' }), active: false, ...over });
  const by = (over: Partial<Parameters<typeof claimName>[1]> = {}) => ({
    source: 'kc',
    claimLocalUsers: false,
    externalId: 'new-id',
    hasAccount: false,
    field: 'username' as const,
    ...over,
  });

  it("releases a departed user's name (same source, another IdP id, disabled): never reuses the account", () => {
    expect(claimName(holder(), by())).toEqual({ kind: 'release' });
    expect(claimName(holder(), by({ hasAccount: true }))).toEqual({ kind: 'release' });
    expect(claimName(holder(), by({ field: 'email' }))).toEqual({ kind: 'release' });
  });

  it('reports a conflict when the holder of another IdP id is active, or protected', () => {
    expect(claimName(holder({ active: true }), by())).toEqual({ kind: 'conflict', reason: expect.stringContaining('held by another active user of kc') });
    expect(claimName(holder({ protected: true }), by())).toMatchObject({ kind: 'conflict' });
  });

  it('links an account of the source without an IdP id, or a claimable local one, only for a user who has none yet and only by username', () => {
    expect(claimName(holder({ externalId: null }), by())).toEqual({ kind: 'link' });
    expect(claimName(holder({ source: 'local', externalId: null }), by({ claimLocalUsers: true }))).toEqual({ kind: 'link' });
    expect(claimName(holder({ source: 'local', externalId: null }), by())).toEqual({
      kind: 'conflict',
      reason: expect.stringContaining('claimLocalUsers is off'),
    });
    expect(claimName(holder({ externalId: null }), by({ hasAccount: true }))).toMatchObject({ kind: 'conflict' });
    expect(claimName(holder({ externalId: null }), by({ field: 'email' }))).toMatchObject({ kind: 'conflict' });
  });

  it("never takes another source's account", () => {
    expect(claimName(holder({ source: 'other' }), by())).toEqual({ kind: 'conflict', reason: expect.stringContaining('another source (other)') });
  });
});

describe('releasedNames', () => {
  const id = '01a243a9-ec34-749c-875e-eb5e32d20083';
  it('suffixes the end of the directory id, then the whole id, then random characters, within 255 characters', () => {
    const names = releasedNames('ann', id, () => 'r4nd');
    expect(names).toEqual([
      'ann~5e32d20083',
      'ann~01a243a9ec34749c875eeb5e32d20083',
      'ann~01a243a9ec34749c875eeb5e32d20083-r4nd',
      'ann~01a243a9ec34749c875eeb5e32d20083-r4nd',
      'ann~01a243a9ec34749c875eeb5e32d20083-r4nd',
    ]);
    for (const n of releasedNames('a'.repeat(255), id, () => 'r4nd')) expect(n.length).toBeLessThanOrEqual(255);
  });

  it('cuts a long name by whole code points, never half a surrogate pair, so the name still follows the rules', () => {
    const long = `a${String.fromCodePoint(0x1df01).repeat(127)}`; // 255 UTF-16 units
    for (const n of releasedNames(long, id, () => 'r4nd')) {
      expect(n.length).toBeLessThanOrEqual(255);
      expect(n).not.toMatch(/\p{Cs}/u);
      expect(checkName(n, 'username')).toMatchObject({ ok: true });
    }
  });
});
