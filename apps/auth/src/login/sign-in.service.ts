import { Inject, Injectable, Logger } from '@nestjs/common';
import { UserAuthenticatedV1 } from '@bridgekeeper/contracts';
import { EventBus } from '@bridgekeeper/messaging';
import { AUTH_CONFIG, AuthConfig } from '../config/auth.config';
import { IdpEntity } from '../idps/idp.entity';
import { IdpsService } from '../idps/idps.service';
import { PendingTrace } from '../login-trace/login-trace.service';
import { OutcomeWaiter } from '../provisioning-outcome/outcome-waiter.service';
import { SessionService } from '../sessions/session.service';
import { LoginError } from './login-error';
import { Protocol } from './login-protocol';

export const ANOTHER_BROWSER =
  'the login this answer belongs to was started in another browser (or this browser no longer has its login cookie); it is left open for the browser that started it';

export interface LoginDone {
  sessionToken: string;
  returnTo: string;
}

/** A refusal: ends the trace as failed and gives the LoginError to throw. */
export type Refuse = (code: string, reason: string, status?: number) => Promise<LoginError>;

/** What a protocol learnt about who signed in, for the shared tail. */
export interface VerifiedLogin {
  event: { protocol: Protocol; subject: string; subjectFormat?: string; attributes: Record<string, string[]>; sessionIndex?: string };
  session: { nameId: string; nameIdFormat?: string; sessionIndex?: string; idToken?: string };
  returnTo: string;
}

/**
 * The protocol-independent part of a login, which saml/ and oidc/ call: the IdP a browser names,
 * refusals that end the trace, and the tail once the IdP's answer is verified (user.authenticated,
 * provisioning's answer, the session, the trace's end).
 */
@Injectable()
export class SignInService {
  private readonly logger = new Logger(SignInService.name);

  constructor(
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    private readonly idps: IdpsService,
    private readonly bus: EventBus,
    private readonly outcomes: OutcomeWaiter,
    private readonly sessions: SessionService,
  ) {}

  /** The enabled IdP a browser names (of the protocol the endpoint speaks), or a 404 page. */
  async enabledIdp(idpId: string, protocol?: Protocol): Promise<IdpEntity> {
    const idp = await this.idps.find(idpId);
    if (!idp || !idp.enabled) throw new LoginError(404, 'unknown_idp', { detail: `no identity provider '${idpId}' is configured` });
    if (protocol && idp.protocol !== protocol) {
      throw new LoginError(404, 'unknown_idp', { detail: `identity provider '${idpId}' does not use ${protocol === 'saml' ? 'SAML' : 'OpenID Connect'}` });
    }
    return idp;
  }

  /** An unexpected error while completing a login still ends its trace, with the steps before it. */
  async recorded<T>(trace: PendingTrace, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof LoginError) throw err;
      const reason = err instanceof Error ? err.message : String(err);
      this.logger.error(`login ${trace.id} failed unexpectedly: ${err instanceof Error ? err.stack : reason}`);
      if (!trace.ended) await trace.fail('internal_error', reason).catch(() => undefined);
      // The person gets the plain page with the trace id, like any other refusal.
      throw new LoginError(500, 'internal_error', { traceId: trace.id, detail: reason });
    }
  }

  /** A refusal: the trace says why (with the steps before it), the browser gets a plain page with the trace id. */
  refusal(trace: PendingTrace): Refuse {
    return async (code: string, reason: string, status = 400) => {
      await trace.fail(code, reason);
      return new LoginError(status, code, { traceId: trace.id, detail: reason });
    };
  }

  /** The protocol-independent tail: user.authenticated, provisioning's answer, the session. */
  async provisionAndSignIn(trace: PendingTrace, idpId: string, refuse: Refuse, login: VerifiedLogin): Promise<LoginDone> {
    const eventId = crypto.randomUUID();
    const waiting = this.outcomes.expect(eventId, this.config.provisioningTimeoutMs);
    try {
      await this.bus.publish(UserAuthenticatedV1, { idp: idpId, ...login.event, traceId: trace.id }, { id: eventId });
    } catch (err) {
      this.outcomes.cancel(eventId);
      throw await refuse('events_unavailable', `publishing user.authenticated failed: ${(err as Error).message}`, 503);
    }
    trace.step('user.authenticated', `event ${eventId}`);
    const outcome = await waiting;
    if (outcome.kind === 'timeout') {
      throw await refuse(
        'provisioning_timeout',
        `provisioning did not answer within ${this.config.provisioningTimeoutMs} ms; event ${eventId} is kept and will be processed`,
        503,
      );
    }
    if (outcome.kind === 'failed') {
      throw await refuse('provisioning_failed', outcome.reason, 503);
    }
    if (outcome.kind === 'rejected') {
      throw await refuse(outcome.event.data.code, outcome.event.data.reason, 403);
    }
    const { user, groups, notices } = outcome.event.data;
    // What provisioning refused while the login went on (a group or account its IdP does not own), and the groups it created (owned by this IdP from now on).
    const said = (list: typeof notices = []) => list.map((n) => `${n.code} ${n.name}: ${n.reason}`).join('; ');
    const created = notices?.filter((n) => n.code === 'group_created');
    const absent = notices?.filter((n) => n.code === 'claim_absent');
    const refused = notices?.filter((n) => n.code !== 'group_created' && n.code !== 'claim_absent');
    if (refused?.length) trace.step('provisioning.refused', said(refused));
    if (created?.length) trace.step('provisioning.groups-created', said(created));
    // What the login did not carry: kept as the directory holds it (an absent claim is not an empty value).
    if (absent?.length) trace.step('provisioning.claims-absent', said(absent));
    // The session's row and the trace's success land together.
    const session = await this.sessions.open(user, groups, idpId, login.session);
    await trace.succeed(user.id, `session issued to ${user.username}`, (em) => [session.write(em)]);
    return { sessionToken: session.token, returnTo: login.returnTo };
  }
}
