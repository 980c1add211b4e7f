import { grantSet, groupRefused, groupUse, mayLinkAccount, mayUseAccount } from './ownership';

const account = (over: Partial<Parameters<typeof mayUseAccount>[0]> = {}) => ({ username: 'alice', source: 'local', externalId: null, protected: false, ...over });

describe('mayUseAccount: which accounts a source may use besides those of its own subject', () => {
  it('uses an account an admin created for this source', () => {
    expect(mayUseAccount(account({ source: 'kc' }), { source: 'kc', claimLocalUsers: false })).toEqual({ ok: true });
  });

  it('claims a local account without an external id only when the admin allowed it', () => {
    expect(mayUseAccount(account(), { source: 'kc', claimLocalUsers: false })).toEqual({ ok: false, reason: expect.stringContaining('claimLocalUsers is off') });
    expect(mayUseAccount(account(), { source: 'kc', claimLocalUsers: true })).toEqual({ ok: true });
    expect(mayUseAccount(account({ externalId: 'x' }), { source: 'kc', claimLocalUsers: true })).toMatchObject({ ok: false });
  });

  it('never uses another source’s account', () => {
    expect(mayUseAccount(account({ source: 'other' }), { source: 'kc', claimLocalUsers: true })).toEqual({ ok: false, reason: expect.stringContaining('another source (other)') });
  });

  it('never uses a protected account, whatever the grant; only the directory’s own sign-in does', () => {
    expect(mayUseAccount(account({ protected: true }), { source: 'kc', claimLocalUsers: true })).toEqual({ ok: false, reason: expect.stringContaining('protected') });
    expect(mayUseAccount(account({ protected: true, source: 'kc' }), { source: 'kc', claimLocalUsers: true })).toMatchObject({ ok: false });
    expect(mayUseAccount(account({ protected: true }), { source: 'local', claimLocalUsers: false })).toEqual({ ok: true });
  });
});

describe('mayLinkAccount: linking the login’s subject (JIT)', () => {
  it('refuses an own account already linked to another subject: another person with the same name', () => {
    expect(mayLinkAccount(account({ source: 'kc', externalId: 'kc-1' }), { source: 'kc', externalId: 'kc-2', claimLocalUsers: false })).toEqual({ ok: false, reason: expect.stringContaining('another subject') });
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
    expect(groupRefused('jira-admins', group('local'))).toEqual({ code: 'group_not_owned', name: 'jira-admins', reason: expect.stringContaining('local group') });
    expect(groupRefused('jira-admins', group('other'))).toEqual({ code: 'group_not_owned', name: 'jira-admins', reason: 'not joined: owned by other' });
  });
});
