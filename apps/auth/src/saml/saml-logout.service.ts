import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { decodeSamlMessage, redactSamlXml, SamlValidationError } from '@bridgekeeper/saml';
import { AUTH_CONFIG, AuthConfig } from '../config/auth.config';
import { IdpEntity } from '../idps/idp.entity';
import { LoginTraceService } from '../login-trace/login-trace.service';
import { idpLookupFailure } from '../login/idp-lookup-failure';
import { LoginError } from '../login/login-error';
import { IdpLogout, LoginProtocols, LogoutNext } from '../login/login-protocol';
import { AssertionReplayStore } from '../login/replay.store';
import { safeReturnTo } from '../return-to';
import { SessionEntity } from '../sessions/session.entity';
import { SessionService } from '../sessions/session.service';
import { SamlIdpRegistry } from './saml-idp.registry';

/**
 * SAML single logout. Ours: after the session here ended, the browser goes to the IdP with a
 * signed LogoutRequest so its session ends too. The IdP's: a signed LogoutRequest ends every
 * session of that subject; an unsigned one, or one for nobody here, logs nobody out.
 */
@Injectable()
export class SamlLogoutService implements IdpLogout, OnModuleInit {
  private readonly logger = new Logger(SamlLogoutService.name);

  constructor(
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    private readonly sessions: SessionService,
    private readonly idps: SamlIdpRegistry,
    private readonly replay: AssertionReplayStore,
    private readonly traces: LoginTraceService,
    private readonly protocols: LoginProtocols,
  ) {}

  onModuleInit(): void {
    this.protocols.registerLogout('saml', this);
  }

  private safe(raw: unknown): string {
    return safeReturnTo(raw, new URL(this.config.publicUrl).origin, this.config.allowedReturnOrigins) ?? '/';
  }

  /** Our LogoutRequest for the session that has just ended here, when the IdP takes one. */
  async endAtIdp(idp: IdpEntity, record: SessionEntity, returnTo: string): Promise<LogoutNext> {
    const sp = await this.idps.serviceProvider(idp);
    if (!sp.canLogout) return { next: returnTo };
    return {
      next: await sp.logoutUrl(
        { nameId: record.nameId, nameIdFormat: record.nameIdFormat ?? undefined, sessionIndex: record.sessionIndex ?? undefined },
        returnTo,
      ),
    };
  }

  /**
   * `/saml/:idp/slo`: the IdP's LogoutRequest, or its LogoutResponse to ours. A LogoutRequest ends
   * exactly the sessions it names (NameID, and SessionIndex when given), is honoured once (its ID
   * is remembered) and only while fresh (IssueInstant within the clock skew). `ended` lists the
   * sessions it ended: the browser that carried it loses its cookie only when its own session is
   * one of them, so a LogoutRequest delivered to someone else's browser signs nobody else out.
   */
  async singleLogout(
    idpId: string,
    binding: 'redirect' | 'post',
    params: Record<string, unknown>,
    originalQuery: string,
  ): Promise<{ next: string; ended: string[] }> {
    // Only an IdP not configured (or disabled) is unknown; one that cannot be read now is
    // unavailable, so the IdP sends its message again (idpLookupFailure).
    const sp = await this.idps.serviceProvider(idpId).catch((err: unknown) => {
      throw idpLookupFailure(idpId, err, this.logger);
    });
    const refuse = (reason: string) => {
      this.logger.warn(`refused a logout message from ${idpId}: ${reason}`);
      return new LoginError(400, 'logout_refused', { detail: reason });
    };
    let result;
    try {
      result = await sp.validateLogout(binding, params, originalQuery);
    } catch (err) {
      const reason = err instanceof SamlValidationError ? `${err.code}: ${err.message}` : (err as Error).message;
      if (typeof params.SAMLResponse === 'string') throw await this.refusedLogoutResponse(idpId, binding, params.SAMLResponse, reason);
      throw refuse(reason);
    }
    const relayState = typeof params.RelayState === 'string' ? params.RelayState : '';
    if (typeof params.SAMLRequest === 'string' && result.profile) {
      const request = 'request' in result ? result.request : undefined;
      if (!request) throw refuse('the LogoutRequest could not be read');
      // Remembered with the sessions it ends, in one transaction: a failure mid-way forgets it, so the IdP's retry is honoured.
      const { nameID, sessionIndex } = result.profile;
      const once = await this.replay.once(idpId, `logout-request:${request.id}`, request.rememberUntil, (em) =>
        this.sessions.endBySubject(idpId, nameID, sessionIndex as string | undefined, em),
      );
      if (!once) throw refuse(`LogoutRequest ${request.id} was already used`);
      const ended = once.result;
      this.logger.log(`${idpId} logged out ${result.profile.nameID}: ${ended.length} session(s) ended`);
      return { next: await sp.logoutResponseUrl(result.profile as { ID?: string; issuer?: string }, relayState, true), ended };
    }
    return { next: this.safe(relayState), ended: [] };
  }

  /**
   * The IdP's answer to a logout started here was refused (unsigned, or not answering a logout of
   * ours): it changes nothing, and the logout here already happened before the browser left for the
   * IdP. The person is told they are signed out here (the controller says so only to a browser with
   * no session); the admin reads why in a trace of its own, with the message.
   */
  private async refusedLogoutResponse(idpId: string, binding: 'redirect' | 'post', message: string, reason: string): Promise<LoginError> {
    this.logger.warn(`refused the LogoutResponse from ${idpId}: ${reason}`);
    const trace = this.traces.begin(idpId, 'saml', 'saml.logout-response-received');
    trace.step('saml.logout-response-refused', undefined, {
      message: { kind: 'response', text: redactSamlXml(decodeSamlMessage(message, binding === 'redirect')) },
    });
    await trace.fail(
      'logout_response_refused',
      `${reason}. The session here had already ended when the browser went to the IdP; the person may still be signed in at the IdP`,
    );
    return new LoginError(400, 'logout_response_refused', { traceId: trace.id, detail: reason });
  }
}
