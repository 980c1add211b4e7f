import { createSign, randomUUID } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import type { TestIdpKeys } from './saml-idp';

export interface LogoutRequestOptions {
  keys: TestIdpKeys;
  idpEntityId: string;
  /** The SP's single logout URL (the Destination). */
  sloUrl: string;
  nameId: string;
  sessionIndex?: string;
  id?: string;
  issueInstant?: Date;
  relayState?: string;
}

/**
 * An IdP-initiated LogoutRequest in the HTTP-Redirect binding, signed as Keycloak signs it (the
 * query string `SAMLRequest&RelayState&SigAlg` with RSA-SHA256): the query to append to the SP's
 * `/saml/:idp/slo`.
 */
export function buildLogoutRequestQuery(o: LogoutRequestOptions): string {
  const id = o.id ?? `_${randomUUID()}`;
  const xml =
    `<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ` +
    `ID="${id}" Version="2.0" IssueInstant="${(o.issueInstant ?? new Date()).toISOString()}" Destination="${o.sloUrl}">` +
    `<saml:Issuer>${o.idpEntityId}</saml:Issuer>` +
    `<saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified">${o.nameId}</saml:NameID>` +
    (o.sessionIndex ? `<samlp:SessionIndex>${o.sessionIndex}</samlp:SessionIndex>` : '') +
    `</samlp:LogoutRequest>`;
  const parts = [`SAMLRequest=${encodeURIComponent(deflateRawSync(xml).toString('base64'))}`];
  if (o.relayState) parts.push(`RelayState=${encodeURIComponent(o.relayState)}`);
  parts.push(`SigAlg=${encodeURIComponent('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256')}`);
  const signed = parts.join('&');
  const signature = createSign('RSA-SHA256').update(signed).sign(o.keys.privateKeyPem, 'base64');
  return `${signed}&Signature=${encodeURIComponent(signature)}`;
}
