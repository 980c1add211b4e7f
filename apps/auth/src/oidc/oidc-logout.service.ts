import { randomBytes } from 'node:crypto';
import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { OidcError } from '@bridgekeeper/oidc';
import { IdpEntity } from '../idps/idp.entity';
import { IdpUnavailableError, UnknownIdpError } from '../idps/idp-errors';
import { IdpsService } from '../idps/idps.service';
import { idpLookupFailure } from '../login/idp-lookup-failure';
import { LoginError } from '../login/login-error';
import { IdpLogout, LoginProtocols, LogoutNext } from '../login/login-protocol';
import { AssertionReplayStore } from '../login/replay.store';
import { SessionEntity } from '../sessions/session.entity';
import { SessionService } from '../sessions/session.service';
import { OidcIdpRegistry } from './oidc-idp.registry';

/** OpenID Connect logout: ours (RP-initiated, after the session here ended) and the IdP's (back-channel). */
@Injectable()
export class OidcLogoutService implements IdpLogout, OnModuleInit {
  private readonly logger = new Logger(OidcLogoutService.name);

  constructor(
    private readonly sessions: SessionService,
    private readonly idps: IdpsService,
    private readonly oidc: OidcIdpRegistry,
    private readonly replay: AssertionReplayStore,
    private readonly protocols: LoginProtocols,
  ) {}

  onModuleInit(): void {
    this.protocols.registerLogout('oidc', this);
  }

  /** RP-initiated logout: the IdP sends the browser back to the one registered post-logout URI (GET /). */
  async endAtIdp(idp: IdpEntity, record: SessionEntity, returnTo: string): Promise<LogoutNext> {
    const { rp } = await this.oidc.get(idp);
    const state = returnTo !== '/' ? randomBytes(18).toString('base64url') : undefined;
    const next = rp.endSessionUrl(record.idToken ?? undefined, state);
    return next ? { next, ...(state ? { oidcState: { state, returnTo } } : {}) } : { next: returnTo };
  }

  /**
   * `/oidc/:idp/backchannel-logout`: the IdP's signed logout token ends the sessions it names
   * (by `sid`, else every session of `sub`); a token is honoured once (its `jti` is remembered).
   */
  async backchannelLogout(idpId: string, logoutToken: unknown): Promise<number> {
    // Only an IdP not configured, disabled or not OIDC is unknown (404: the IdP stops sending);
    // one that cannot be read now (auth's database, its discovery document) is unavailable (503:
    // the IdP sends the token again). Nothing is remembered before that, so its retry is honoured.
    let verifier;
    try {
      const idp = await this.idps.find(idpId);
      if (!idp || !idp.enabled) throw new UnknownIdpError(`no identity provider '${idpId}' is configured`);
      if (idp.protocol !== 'oidc') throw new UnknownIdpError(`identity provider '${idpId}' does not use OpenID Connect`);
      verifier = (await this.oidc.get(idp)).logoutTokens;
    } catch (err) {
      throw idpLookupFailure(idpId, err, this.logger);
    }
    let notice;
    try {
      notice = await verifier.verify(typeof logoutToken === 'string' ? logoutToken : '');
    } catch (err) {
      const reason = err instanceof OidcError ? `${err.code}: ${err.message}` : (err as Error).message;
      // The IdP's keys out of reach say nothing about the token: not refused, sent again later.
      if (err instanceof OidcError && err.code === 'jwks_unavailable') throw idpLookupFailure(idpId, new IdpUnavailableError(reason), this.logger);
      this.logger.warn(`refused a back-channel logout from ${idpId}: ${reason}`);
      throw new LoginError(400, 'logout_refused', { detail: reason });
    }
    // Remembered with the sessions it ends, in one transaction: a failure mid-way forgets it, so the IdP's retry is honoured.
    const once = await this.replay.once(idpId, `logout:${notice.jti}`, notice.expiresAt, (em) => this.sessions.endByOidcSession(idpId, notice, em));
    if (!once) throw new LoginError(400, 'logout_refused', { detail: `logout token ${notice.jti} was already used` });
    const ended = once.result;
    this.logger.log(`${idpId} logged out ${notice.sub ?? `session ${notice.sid}`} (back-channel): ${ended} session(s) ended`);
    return ended;
  }
}
