import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { LogoutTokenVerifier, OidcRelyingParty } from '@bridgekeeper/oidc';
import { guardedFetch } from '@bridgekeeper/platform';
import { AUTH_CONFIG, AuthConfig } from '../config/auth.config';
import { IdpEntity } from '../idps/idp.entity';
import { IdpsService } from '../idps/idps.service';
import { IdpUnavailableError } from '../saml/saml-idp.registry';

export interface OidcIdp {
  rp: OidcRelyingParty;
  logoutTokens: LogoutTokenVerifier;
}

/**
 * A relying party per OIDC IdP, built from the stored discovery document and the sealed client
 * secret, kept while the IdP is unchanged (so its JWKS cache lives across logins), rebuilt when
 * it changes (a refreshed discovery, a new secret, new settings).
 */
@Injectable()
export class OidcIdpRegistry {
  private readonly built = new Map<string, { version: string; idp: OidcIdp }>();
  private readonly fetch: typeof fetch;

  constructor(
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    private readonly idps: IdpsService,
  ) {
    this.fetch = guardedFetch({ allowPrivate: config.saml.metadataAllowPrivate });
  }

  async get(idp: IdpEntity): Promise<OidcIdp> {
    let opened;
    try {
      opened = await this.idps.withDiscovery(idp);
    } catch (err) {
      throw new IdpUnavailableError(`the discovery document of identity provider '${idp.id}' could not be loaded: ${(err as Error).message}`);
    }
    const { settings, clientSecret } = opened;
    const version = createHash('sha256').update(`${idp.id}:${idp.updatedAt.getTime()}:${JSON.stringify(settings)}:${clientSecret}`).digest('base64url');
    const hit = this.built.get(idp.id);
    if (hit?.version === version) return hit.idp;
    const clockSkewMs = this.config.saml.clockSkewMs;
    const built: OidcIdp = {
      rp: new OidcRelyingParty({
        idpId: idp.id,
        publicUrl: this.config.publicUrl,
        discovery: settings.discovery,
        clientId: settings.clientId,
        clientSecret,
        scopes: settings.scopes,
        idTokenAlgorithm: settings.idTokenAlgorithm,
        userinfo: settings.userinfo,
        clockSkewMs,
        allowHttp: this.config.oidc.allowHttp,
        fetch: this.fetch,
        version,
      }),
      logoutTokens: new LogoutTokenVerifier(settings.discovery.jwks_uri, { issuer: settings.issuer, clientId: settings.clientId, algorithm: settings.idTokenAlgorithm, clockSkewMs }, this.fetch),
    };
    this.built.set(idp.id, { version, idp: built });
    return built;
  }
}
