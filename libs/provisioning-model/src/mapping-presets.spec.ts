import { MAPPING_PRESET_NAMES } from '@bridgekeeper/contracts';
import { KEYCLOAK_DEFAULT_MAPPING, mapIdentity } from './attribute-mapping';
import { MAPPING_PRESETS, mappingPreset } from './mapping-presets';

describe('mapping presets per IdP family', () => {
  it('has one for each family an IdP can be added with, the Keycloak one being the default', () => {
    expect(Object.keys(MAPPING_PRESETS).sort()).toEqual([...MAPPING_PRESET_NAMES].sort());
    expect(mappingPreset('keycloak')).toEqual(KEYCLOAK_DEFAULT_MAPPING);
  });

  it('Entra ID / ADFS: claim URIs for email, names and groups (SAML)', () => {
    const attributes = {
      'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name': ['Ann@Corp.Example'],
      'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress': ['ann@corp.example'],
      'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname': ['Ann'],
      'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname': ['Lee'],
      'http://schemas.xmlsoap.org/claims/Group': ['Engineering', 'Staff'],
    };
    expect(
      mapIdentity('_persistent-id', attributes, mappingPreset('entra-adfs'), {
        protocol: 'saml',
        subjectFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
      }),
    ).toMatchObject({
      ok: true,
      identity: { username: 'ann@corp.example', email: 'ann@corp.example', displayName: 'Ann Lee', groups: ['Engineering', 'Staff'], absent: [] },
    });
    // The Keycloak default drops names and groups of the same assertion.
    expect(mapIdentity('_persistent-id', attributes, KEYCLOAK_DEFAULT_MAPPING, { protocol: 'saml' })).toMatchObject({
      ok: true,
      identity: { displayName: null, groups: [] },
    });
  });

  it('Entra ID (OIDC): preferred_username is the UPN', () => {
    expect(
      mapIdentity(
        'oid',
        { preferred_username: ['Ann@Corp.Example'], email: ['ann@corp.example'], name: ['Ann Lee'], groups: ['6e8f'] },
        mappingPreset('entra-adfs'),
        { protocol: 'oidc' },
      ),
    ).toMatchObject({
      ok: true,
      identity: { username: 'ann@corp.example', displayName: 'Ann Lee', groups: ['6e8f'] },
    });
  });

  it('Okta: login, names and groups', () => {
    expect(
      mapIdentity(
        '00u1',
        { preferred_username: ['ann@corp.example'], email: ['ann@corp.example'], given_name: ['Ann'], family_name: ['Lee'], groups: ['Everyone'] },
        mappingPreset('okta'),
        { protocol: 'oidc' },
      ),
    ).toMatchObject({
      ok: true,
      identity: { username: 'ann@corp.example', displayName: 'Ann Lee', groups: ['Everyone'] },
    });
  });

  it('Google: the email is the username (no preferred_username, no groups claim)', () => {
    expect(
      mapIdentity('1098', { email: ['Ann@Corp.Example'], name: ['Ann Lee'], hd: ['corp.example'] }, mappingPreset('google'), { protocol: 'oidc' }),
    ).toMatchObject({
      ok: true,
      identity: { username: 'ann@corp.example', displayName: 'Ann Lee', groups: [], absent: [] },
    });
  });

  it('generic OIDC: standard claims, the email when there is no preferred_username', () => {
    expect(
      mapIdentity(
        '248289761001',
        { email: ['jane@example.com'], email_verified: ['true'], given_name: ['Jane'], family_name: ['Doe'] },
        mappingPreset('generic-oidc'),
        { protocol: 'oidc' },
      ),
    ).toMatchObject({
      ok: true,
      identity: { username: 'jane@example.com', displayName: 'Jane Doe', groups: [], absent: ['username'] },
    });
  });

  it('every preset makes groups authoritative: a login without them leaves no managed group (attacker review: they were kept)', () => {
    for (const name of ['keycloak', 'entra-adfs', 'okta', 'google', 'generic-oidc'] as const) expect(mappingPreset(name).authoritative).toContain('groups');
  });
});
