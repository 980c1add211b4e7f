import { buildSignedResponse, TestIdpKeys } from '@bridgekeeper/testing';

/** The attributes Keycloak's default SAML client sends with the usual mappers (email, names, groups, roles). */
export const KEYCLOAK_ATTRIBUTES: Record<string, string[]> = {
  email: ['alice@example.com'],
  firstName: ['Alice'],
  lastName: ['Liddell'],
  groups: ['/engineering/backend', '/staff', '/jira-users', '/confluence-users'],
  Role: [
    'default-roles-bridgekeeper',
    'offline_access',
    'uma_authorization',
    'manage-account',
    'view-profile',
    'manage-account-links',
    'view-applications',
    'view-consent',
    'manage-consent',
    'delete-account',
  ],
};

/**
 * A response shaped like Keycloak's (about 9 KB): Response and Assertion both signed with RSA-2048
 * / SHA-256, exclusive c14n, each signature carrying the X.509 certificate in KeyInfo. A named
 * user gets their own address, as in a Keycloak realm (which refuses duplicate emails by default).
 */
export function keycloakShapedResponse(o: {
  keys: TestIdpKeys;
  idpEntityId: string;
  spEntityId: string;
  acsUrl: string;
  inResponseTo?: string;
  nameId?: string;
}): string {
  const attributes = o.nameId ? { ...KEYCLOAK_ATTRIBUTES, email: [`${o.nameId}@example.com`] } : KEYCLOAK_ATTRIBUTES;
  return buildSignedResponse({ ...o, attributes, signAssertion: true, signResponse: true });
}

/**
 * The bench's browser: the login binding cookie (apps/auth/src/login/browser-binding.ts) sent with
 * every /login and every ACS post, so each login is answered in the browser that started it.
 */
export const BENCH_BROWSER = `bk_login=${'b'.repeat(43)}`;
