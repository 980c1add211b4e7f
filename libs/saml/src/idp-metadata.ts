import { SamlValidationError } from './errors';
import { attr, nodes, parseXml, text } from './xml';

const REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
const POST = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST';

export interface IdpMetadata {
  entityId: string;
  ssoRedirectUrl?: string;
  ssoPostUrl?: string;
  sloRedirectUrl?: string;
  sloPostUrl?: string;
  /** Base64 DER of every signing certificate (several during a key rollover). */
  signingCertificates: string[];
  wantAuthnRequestsSigned: boolean;
}

/** Reads an IdP's SAML metadata (an EntityDescriptor, or the first IdP in an EntitiesDescriptor). */
export function parseIdpMetadata(xml: string): IdpMetadata {
  const doc = parseXml(xml);
  const entity = nodes('//md:EntityDescriptor[md:IDPSSODescriptor]', doc)[0];
  if (!entity) throw new SamlValidationError('malformed', 'the metadata has no EntityDescriptor with an IDPSSODescriptor');
  const entityId = attr(entity, 'entityID');
  if (!entityId) throw new SamlValidationError('malformed', 'the EntityDescriptor has no entityID');
  const idp = nodes('md:IDPSSODescriptor', entity)[0];
  const location = (service: string, binding: string) => attr(nodes(`md:${service}[@Binding='${binding}']`, idp)[0], 'Location') ?? undefined;
  const signingCertificates = nodes("md:KeyDescriptor[not(@use) or @use='signing']", idp)
    .map((kd) => text('.//ds:X509Certificate', kd)?.replace(/\s+/g, ''))
    .filter((c): c is string => !!c);
  if (signingCertificates.length === 0) throw new SamlValidationError('malformed', 'the metadata names no signing certificate');
  const meta: IdpMetadata = {
    entityId,
    ssoRedirectUrl: location('SingleSignOnService', REDIRECT),
    ssoPostUrl: location('SingleSignOnService', POST),
    sloRedirectUrl: location('SingleLogoutService', REDIRECT),
    sloPostUrl: location('SingleLogoutService', POST),
    signingCertificates: [...new Set(signingCertificates)],
    wantAuthnRequestsSigned: attr(idp, 'WantAuthnRequestsSigned') === 'true',
  };
  if (!meta.ssoRedirectUrl && !meta.ssoPostUrl) throw new SamlValidationError('malformed', 'the metadata names no SingleSignOnService');
  return meta;
}

/** Base64 DER → PEM. */
export function toPem(base64Der: string, label = 'CERTIFICATE'): string {
  const body =
    base64Der
      .replace(/\s+/g, '')
      .match(/.{1,64}/g)
      ?.join('\n') ?? '';
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}
