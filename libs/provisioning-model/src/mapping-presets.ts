import type { MappingPresetName } from '@bridgekeeper/contracts';
import { AttributeMapping, KEYCLOAK_DEFAULT_MAPPING } from './attribute-mapping';

const CLAIMS = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims';

/**
 * Attribute mappings per IdP family, chosen when an IdP is added (docs/idps/ says what to configure
 * at each IdP). Each reads both protocols' names where the family speaks both. Groups are
 * authoritative in every preset: an IdP leaves the attribute out for a user in no group (Keycloak,
 * Okta, Entra, ADFS, Google Workspace), and a login without it must revoke, not keep, the managed
 * groups; Entra's overage (too many groups to list) is refused, not guessed (attribute-mapping.ts).
 */
export const MAPPING_PRESETS: Readonly<Record<MappingPresetName, AttributeMapping>> = {
  keycloak: KEYCLOAK_DEFAULT_MAPPING,
  'entra-adfs': {
    // Entra's SAML `name` claim and its OIDC preferred_username are the UPN; ADFS sends upn when a rule says so.
    // No email fallback: Entra's email claim is editable by users of other tenants (nOAuth).
    username: { source: 'attribute', attribute: [`${CLAIMS}/upn`, `${CLAIMS}/name`, 'preferred_username', 'upn'], lowercase: true },
    email: [`${CLAIMS}/emailaddress`, 'email', 'http://schemas.xmlsoap.org/claims/EmailAddress'],
    firstName: [`${CLAIMS}/givenname`, 'given_name'],
    lastName: [`${CLAIMS}/surname`, 'family_name'],
    displayName: ['http://schemas.microsoft.com/identity/claims/displayname', 'name', 'http://schemas.xmlsoap.org/claims/CommonName'],
    groups: {
      attribute: ['http://schemas.xmlsoap.org/claims/Group', 'http://schemas.microsoft.com/ws/2008/06/identity/claims/groups', 'groups'],
      naming: 'path',
    },
    properties: {},
    authoritative: ['groups'],
  },
  okta: {
    username: { source: 'attribute', attribute: ['preferred_username', 'login', 'username'], fallback: ['email'], lowercase: true },
    email: ['email'],
    firstName: ['given_name', 'firstName'],
    lastName: ['family_name', 'lastName'],
    displayName: ['name', 'displayName'],
    groups: { attribute: ['groups'], naming: 'path' },
    properties: {},
    authoritative: ['groups'],
  },
  google: {
    // Google sends no preferred_username and no groups claim (Workspace SAML: groups only when mapped).
    username: { source: 'attribute', attribute: 'email', fallback: ['nameId'], lowercase: true },
    email: ['email'],
    firstName: ['given_name', 'firstName'],
    lastName: ['family_name', 'lastName'],
    displayName: ['name', 'displayName'],
    groups: { attribute: ['groups'], naming: 'path' },
    properties: {},
    authoritative: ['groups'],
  },
  'generic-oidc': {
    username: { source: 'attribute', attribute: 'preferred_username', fallback: ['email'], lowercase: true },
    email: ['email'],
    firstName: ['given_name'],
    lastName: ['family_name'],
    displayName: ['name'],
    groups: { attribute: ['groups'], naming: 'path' },
    properties: {},
    authoritative: ['groups'],
  },
};

/** A preset's mapping (a copy: callers may change it). */
export const mappingPreset = (name: MappingPresetName): AttributeMapping => structuredClone(MAPPING_PRESETS[name]);
