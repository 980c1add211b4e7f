import { Inject, Injectable, Logger } from '@nestjs/common';
import { AUTH_CONFIG, AuthConfig } from '../config/auth.config';
import { IdpsService } from '../idps/idps.service';
import { safeReturnTo } from '../return-to';
import { SessionService } from '../sessions/session.service';
import { LoginProtocols, LogoutNext } from './login-protocol';

/**
 * Our logout (POST /logout): end the session here, then send the browser to the IdP so its
 * session ends too, by the IdP's protocol (registered in LoginProtocols: saml/ sends a signed
 * LogoutRequest, oidc/ the RP-initiated logout). The IdP's own logout messages are the protocols'.
 */
@Injectable()
export class LogoutService {
  private readonly logger = new Logger(LogoutService.name);

  constructor(
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    private readonly sessions: SessionService,
    private readonly idps: IdpsService,
    private readonly protocols: LoginProtocols,
  ) {}

  /**
   * Ends the session here; answers where the browser goes next (the IdP's logout, or returnTo),
   * and, for an OIDC IdP's logout, the one-time `state` it carries and the returnTo it stands for:
   * the caller binds them to the browser (a cookie), and the post-logout URI (GET /) follows
   * returnTo only for that browser, once (see `afterLogout`).
   */
  async logout(token: string | undefined, rawReturnTo: unknown): Promise<LogoutNext> {
    const returnTo = safeReturnTo(rawReturnTo, new URL(this.config.publicUrl).origin, this.config.allowedReturnOrigins) ?? '/';
    const claims = await this.sessions.verify(token);
    if (!claims) return { next: returnTo };
    const record = await this.sessions.record(claims.sid);
    await this.sessions.end(claims.sid);
    if (!record) return { next: returnTo };
    try {
      const idp = await this.idps.find(record.idp);
      if (!idp || !idp.enabled) throw new Error(`no identity provider '${record.idp}' is configured`);
      return await this.protocols.logout(idp.protocol).endAtIdp(idp, record, returnTo);
    } catch (err) {
      this.logger.warn(`signed out locally; the IdP logout of ${record.idp} was skipped: ${(err as Error).message}`);
      return { next: returnTo };
    }
  }
}
