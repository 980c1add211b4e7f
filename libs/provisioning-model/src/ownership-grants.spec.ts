import { KEYCLOAK_DEFAULT_MAPPING } from './attribute-mapping';
import { loginGrants, NO_GRANTS } from './ownership-grants';

describe('loginGrants', () => {
  it('grants nothing by default', () => {
    expect(loginGrants(KEYCLOAK_DEFAULT_MAPPING, NO_GRANTS)).toEqual({ grantLocalGroups: [], claimLocalUsers: false });
  });

  it('adds the defaultForAll groups, the admin’s own grant, to the allow-list, each name once', () => {
    const mapping = { groups: { ...KEYCLOAK_DEFAULT_MAPPING.groups, defaultForAll: ['everyone', 'Jira-Users'], defaultForNew: ['onboarding'] } };
    expect(loginGrants(mapping, { grantLocalGroups: ['jira-users', 'jira-admins'], claimLocalUsers: true })).toEqual({
      grantLocalGroups: ['Jira-Users', 'jira-admins', 'everyone'],
      claimLocalUsers: true,
    });
  });
});
