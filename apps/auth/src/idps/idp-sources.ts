import { BadRequestException } from '@nestjs/common';
import { safeFetchText } from '@bridgekeeper/platform';
import { discoveryUrl, OidcDiscovery, parseDiscovery } from '@bridgekeeper/oidc';
import { normaliseCertificate, parseIdpMetadata } from '@bridgekeeper/saml';
import { IdpMetadataState } from './idp.entity';

/** Where an IdP's configuration comes from: SAML metadata (a URL, pasted XML, or by hand) and OIDC discovery, fetched safely and checked. */

export class IdpMetadataError extends BadRequestException {}

/** The context the client secret of an OIDC IdP is sealed with. */
export const secretContext = (idpId: string) => `idp-client-secret:${idpId}`;

export async function metadataFrom(
  dto: { metadataUrl?: string; metadataXml?: string; manual?: { entityId: string; ssoUrl: string; sloUrl?: string; certificates: string[] } },
  allowPrivate: boolean,
): Promise<IdpMetadataState> {
  try {
    if (dto.metadataUrl) return await fetchMetadata(dto.metadataUrl, allowPrivate);
    if (dto.metadataXml) return parseIdpMetadata(dto.metadataXml);
    const m = dto.manual!;
    return {
      entityId: m.entityId,
      ssoRedirectUrl: m.ssoUrl,
      ssoPostUrl: m.ssoUrl,
      sloRedirectUrl: m.sloUrl,
      sloPostUrl: m.sloUrl,
      signingCertificates: m.certificates.map(normaliseCertificate),
      wantAuthnRequestsSigned: true,
    };
  } catch (err) {
    throw new IdpMetadataError(`metadata: ${(err as Error).message}`);
  }
}

/** The issuer's discovery document, fetched safely and checked (issuer, endpoints, PKCE). */
export async function discover(issuer: string, allowPrivate: boolean): Promise<OidcDiscovery> {
  try {
    return parseDiscovery(await safeFetchText(discoveryUrl(issuer), { allowPrivate }), issuer);
  } catch (err) {
    throw new IdpMetadataError(`oidc.issuer: discovery failed: ${(err as Error).message}`);
  }
}

export async function fetchMetadata(url: string, allowPrivate: boolean): Promise<IdpMetadataState> {
  return parseIdpMetadata(await safeFetchText(url, { allowPrivate }));
}
