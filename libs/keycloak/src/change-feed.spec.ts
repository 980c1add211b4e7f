import { ChangeFeed } from './change-feed';

const feed = (since = 1000, maxUsers = 10) => new ChangeFeed({ since, maxUsers });
const admin = (resourceType: string, operationType: string, resourcePath: string, time = 2000, error?: string) => ({
  resourceType,
  operationType,
  resourcePath,
  time,
  error,
});

describe('ChangeFeed', () => {
  it('names each user whose record or memberships changed, once', () => {
    const v = feed()
      .addAdminEvents([
        admin('USER', 'UPDATE', 'users/u2'),
        admin('USER', 'CREATE', 'users/u1'),
        admin('GROUP_MEMBERSHIP', 'CREATE', 'users/u3/groups/g1'),
        admin('USER', 'DELETE', 'users/u1'),
        admin('USER', 'ACTION', 'users/u4/reset-password'),
        admin('REALM', 'CREATE', 'users/u5'), // how Keycloak 26 records a user added by partial import
      ])
      .verdict();
    expect(v).toEqual({ kind: 'users', userIds: ['u1', 'u2', 'u3', 'u4', 'u5'] });
  });

  it('ignores what does not change users (clients, sessions, realm settings, keys)', () => {
    const v = feed()
      .addAdminEvents([
        admin('CLIENT', 'UPDATE', 'clients/c1'),
        admin('USER_SESSION', 'DELETE', 'sessions/s1'),
        admin('REALM', 'UPDATE', ''),
        admin('COMPONENT', 'CREATE', 'components/k1'),
      ])
      .verdict();
    expect(v).toEqual({ kind: 'users', userIds: [] });
  });

  it.each([
    ['GROUP', 'UPDATE', 'groups/g1', /renamed, moved or deleted/],
    ['GROUP', 'DELETE', 'groups/g1', /renamed, moved or deleted/],
    ['GROUP', 'CREATE', 'groups/g1/children', /renamed, moved or deleted/],
    ['GROUP', 'CREATE', 'groups/g2', /renamed, moved or deleted/],
    ['REALM', 'CREATE', 'groups/g3', /partial import/],
    ['USER_PROFILE', 'UPDATE', 'users/profile', /user profile/],
    ['USER_FEDERATION_PROVIDER', 'ACTION', 'user-storage/ldap/sync', /federation/],
  ])('falls back to a full run on %s %s %s', (type, op, path, reason) => {
    const v = feed()
      .addAdminEvents([admin('USER', 'UPDATE', 'users/u1'), admin(type, op, path)])
      .verdict();
    expect(v.kind).toBe('full');
    expect(v.kind === 'full' && v.reason).toMatch(reason);
  });

  it('does not fall back again for an event the previous run already saw (read again only as overlap)', () => {
    const v = feed(5000)
      .addAdminEvents([admin('GROUP', 'UPDATE', 'groups/g1', 4999), admin('USER', 'UPDATE', 'users/u1', 4999)])
      .verdict();
    expect(v).toEqual({ kind: 'users', userIds: ['u1'] });
  });

  it('skips failed operations', () => {
    expect(
      feed()
        .addAdminEvents([admin('GROUP', 'DELETE', 'groups/g1', 2000, 'unknown_error'), admin('USER', 'UPDATE', 'users/u1', 2000, 'conflict')])
        .verdict(),
    ).toEqual({ kind: 'users', userIds: [] });
  });

  it('names users from their own profile edits, registration and account deletion, not from logins', () => {
    const v = feed()
      .addUserEvents([
        { type: 'UPDATE_PROFILE', userId: 'u1', time: 2000 },
        { type: 'REGISTER', userId: 'u2', time: 2000 },
        { type: 'DELETE_ACCOUNT', userId: 'u3', time: 2000 },
        { type: 'LOGIN', userId: 'u4', time: 2000 },
        { type: 'UPDATE_EMAIL', userId: 'u5', time: 2000, error: 'invalid_email' },
      ])
      .verdict();
    expect(v).toEqual({ kind: 'users', userIds: ['u1', 'u2', 'u3'] });
  });

  it('falls back to a full run past the user limit, and is then decided', () => {
    const f = feed(1000, 2).addAdminEvents([admin('USER', 'UPDATE', 'users/a'), admin('USER', 'UPDATE', 'users/b')]);
    expect(f.decided).toBe(false);
    f.addAdminEvents([admin('USER', 'UPDATE', 'users/c')]);
    expect(f.decided).toBe(true);
    expect(f.verdict()).toEqual({ kind: 'full', reason: expect.stringMatching(/more than 2 users changed/) });
  });
});
