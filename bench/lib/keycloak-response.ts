import { buildSignedResponse, TestIdpKeys } from '@bridgekeeper/testing';

/** The attributes Keycloak's default SAML client sends with the usual mappers (email, names, groups, roles). */
export const KEYCLOAK_ATTRIBUTES: Record<string, string[]> = {
  email: ['alice@example.com'],
  firstName: ['Alice'],
  lastName: ['Liddell'],
  groups: ['/engineering/backend', '/staff', '/jira-users', '/confluence-users'],
  Role: ['default-roles-bridgekeeper', 'offline_access', 'uma_authorization', 'manage-account', 'view-profile', 'manage-account-links', 'view-applications', 'view-consent', 'manage-consent', 'delete-account'],
};

/**
 * A response shaped like Keycloak's (about 9 KB): Response and Assertion both signed with RSA-2048
 * / SHA-256, exclusive c14n, each signature carrying the X.509 certificate in KeyInfo.
 */
export function keycloakShapedResponse(o: { keys: TestIdpKeys; idpEntityId: string; spEntityId: string; acsUrl: string; inResponseTo?: string; nameId?: string }): string {
  return buildSignedResponse({ ...o, attributes: KEYCLOAK_ATTRIBUTES, signAssertion: true, signResponse: true });
}
