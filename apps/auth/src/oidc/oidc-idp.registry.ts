import { Inject, Injectable } from '@nestjs/common';
import { LogoutTokenVerifier, OidcRelyingParty } from '@bridgekeeper/oidc';
import { guardedFetch } from '@bridgekeeper/platform';
import { AUTH_CONFIG, AuthConfig } from '../config/auth.config';
import { IdpEntity } from '../idps/idp.entity';
import { IdpRefreshService } from '../idps/idp-refresh.service';
import { IdpUnavailableError } from '../idps/idp-errors';

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
  private readonly built = new Map<string, { updatedAt: number; idp: OidcIdp }>();
  private readonly fetch: typeof fetch;

  constructor(
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    private readonly refreshes: IdpRefreshService,
  ) {
    this.fetch = guardedFetch({ allowPrivate: config.saml.metadataAllowPrivate });
  }

  async get(idp: IdpEntity): Promise<OidcIdp> {
    // Every change to an IdP (settings, secret, refreshed discovery) moves its updatedAt: an
    // unchanged IdP reuses its relying party without opening the secret again on each login.
    const hit = this.built.get(idp.id);
    if (hit?.updatedAt === idp.updatedAt.getTime()) return hit.idp;
    let opened;
    try {
      opened = await this.refreshes.withDiscovery(idp);
    } catch (err) {
      throw new IdpUnavailableError(`the discovery document of identity provider '${idp.id}' could not be loaded: ${(err as Error).message}`);
    }
    const { settings, clientSecret } = opened;
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
        maxIdTokenAgeMs: this.config.oidc.maxIdTokenAgeMs,
        allowHttp: this.config.oidc.allowHttp,
        fetch: this.fetch,
      }),
      logoutTokens: new LogoutTokenVerifier(
        settings.discovery.jwks_uri,
        { issuer: settings.issuer, clientId: settings.clientId, algorithm: settings.idTokenAlgorithm, clockSkewMs },
        this.fetch,
      ),
    };
    // withDiscovery may have fetched the discovery just now (a newer updatedAt): keyed on what was read.
    this.built.set(idp.id, { updatedAt: idp.updatedAt.getTime(), idp: built });
    return built;
  }
}
