import { Inject, Injectable, Logger } from '@nestjs/common';
import { safeReturnTo } from '@bridgekeeper/platform';
import { SamlValidationError } from '@bridgekeeper/saml';
import { AUTH_CONFIG, AuthConfig } from '../config/auth.config';
import { SamlIdpRegistry } from '../saml/saml-idp.registry';
import { SessionService } from '../sessions/session.service';
import { LoginError } from './login-error';

/**
 * Single logout. Ours: end the session, then send the browser to the IdP with a signed
 * LogoutRequest so its session ends too. The IdP's: a signed LogoutRequest ends every session of
 * that subject; an unsigned one, or one for nobody here, logs nobody out.
 */
@Injectable()
export class LogoutService {
  private readonly logger = new Logger(LogoutService.name);

  constructor(
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    private readonly sessions: SessionService,
    private readonly idps: SamlIdpRegistry,
  ) {}

  private safe(raw: unknown): string {
    return safeReturnTo(raw, new URL(this.config.publicUrl).origin, this.config.allowedReturnOrigins) ?? '/';
  }

  /** Ends the session here; answers where the browser goes next (the IdP's logout, or returnTo). */
  async logout(token: string | undefined, rawReturnTo: unknown): Promise<string> {
    const returnTo = this.safe(rawReturnTo);
    const claims = await this.sessions.verify(token);
    if (!claims) return returnTo;
    const record = await this.sessions.record(claims.sid);
    await this.sessions.end(claims.sid);
    if (!record) return returnTo;
    try {
      const sp = await this.idps.serviceProvider(record.idp);
      if (!sp.canLogout) return returnTo;
      return await sp.logoutUrl({ nameId: record.nameId, nameIdFormat: record.nameIdFormat ?? undefined, sessionIndex: record.sessionIndex ?? undefined }, returnTo);
    } catch (err) {
      this.logger.warn(`signed out locally; the IdP logout of ${record.idp} was skipped: ${(err as Error).message}`);
      return returnTo;
    }
  }

  /** `/saml/:idp/slo`: the IdP's LogoutRequest, or its LogoutResponse to ours. */
  async singleLogout(idpId: string, binding: 'redirect' | 'post', params: Record<string, unknown>, originalQuery: string): Promise<string> {
    const sp = await this.idps.serviceProvider(idpId).catch((err) => {
      throw new LoginError(404, 'unknown_idp', 'Sign-out refused', (err as Error).message);
    });
    let result;
    try {
      result = await sp.validateLogout(binding, params, originalQuery);
    } catch (err) {
      const reason = err instanceof SamlValidationError ? err.message : (err as Error).message;
      this.logger.warn(`refused a logout message from ${idpId}: ${reason}`);
      throw new LoginError(400, 'logout_refused', 'Sign-out refused', `The identity provider's logout message was refused: ${reason}`);
    }
    const relayState = typeof params.RelayState === 'string' ? params.RelayState : '';
    if (typeof params.SAMLRequest === 'string' && result.profile) {
      const ended = await this.sessions.endBySubject(idpId, result.profile.nameID, result.profile.sessionIndex as string | undefined);
      this.logger.log(`${idpId} logged out ${result.profile.nameID}: ${ended} session(s) ended`);
      return sp.logoutResponseUrl(result.profile as { ID?: string; issuer?: string }, relayState, true);
    }
    return this.safe(relayState);
  }
}
