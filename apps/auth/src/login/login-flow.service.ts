import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, LessThan, MoreThan, Repository } from 'typeorm';
import { UserAuthenticatedV1 } from '@bridgekeeper/contracts';
import { EventBus } from '@bridgekeeper/messaging';
import { insertWrite, PendingWrite, safeReturnTo } from '@bridgekeeper/platform';
import { decodeSamlMessage, loginSubject, redactSamlXml, SamlValidationError, SamlValidationPool } from '@bridgekeeper/saml';
import { OidcError } from '@bridgekeeper/oidc';
import { AUTH_CONFIG, AuthConfig } from '../config/auth.config';
import { IdpEntity } from '../idps/idp.entity';
import { OidcIdpRegistry } from '../oidc/oidc-idp.registry';
import { LoginTraceService, PendingTrace } from '../login-trace/login-trace.service';
import { OutcomeWaiter } from '../provisioning-outcome/outcome-waiter.service';
import { IdpUnavailableError, SamlIdpRegistry, UnknownIdpError } from '../saml/saml-idp.registry';
import { AssertionReplayStore } from '../saml/saml-stores.service';
import { SessionService } from '../sessions/session.service';
import { LoginError } from './login-error';
import { LoginStateEntity } from './login-state.entity';

export type LoginStart =
  | { kind: 'redirect'; url: string; idp: string }
  | { kind: 'post'; action: string; fields: Record<string, string>; idp: string }
  | { kind: 'chooser'; returnTo: string; idps: { id: string; name: string }[]; lastIdp?: string; notice?: string };

const ANOTHER_BROWSER = 'the login this answer belongs to was started in another browser (or this browser no longer has its login cookie); it is left open for the browser that started it';

export interface LoginDone {
  sessionToken: string;
  returnTo: string;
}

/**
 * The login, protocol by protocol: start (SAML AuthnRequest or OIDC authorization request, with
 * remembered state), then complete (validate, publish user.authenticated, wait for
 * provisioning, issue the session). Every step lands in the login trace; every refusal is a
 * LoginError with the trace id.
 */
@Injectable()
export class LoginFlowService {
  private readonly logger = new Logger(LoginFlowService.name);

  constructor(
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    @InjectRepository(LoginStateEntity) private readonly states: Repository<LoginStateEntity>,
    private readonly idps: SamlIdpRegistry,
    private readonly replay: AssertionReplayStore,
    private readonly validation: SamlValidationPool,
    private readonly traces: LoginTraceService,
    private readonly bus: EventBus,
    private readonly outcomes: OutcomeWaiter,
    private readonly sessions: SessionService,
    private readonly oidc: OidcIdpRegistry,
  ) {}

  /**
   * Starts a login: `?idp=` picks the IdP; otherwise an email (`login_hint`) routes by domain; one
   * enabled IdP means no chooser; else the chooser, with the last IdP used first.
   */
  async start(requested: string | undefined, rawReturnTo: unknown, browserHash: string, loginHint?: string, lastIdp?: string): Promise<LoginStart> {
    const ownOrigin = new URL(this.config.publicUrl).origin;
    const returnTo = safeReturnTo(rawReturnTo, ownOrigin, this.config.allowedReturnOrigins);
    let idpId = requested;
    if (!idpId) {
      const idps = await this.idps.list();
      const domain = loginHint?.includes('@') ? loginHint.split('@').pop()!.trim().toLowerCase() : undefined;
      const routed = domain ? idps.find((i) => i.options.emailDomains.includes(domain)) : undefined;
      if (routed) idpId = routed.id;
      else if (idps.length === 1) idpId = idps[0].id;
      else {
        const choices = idps.map((i) => ({ id: i.id, name: i.name })).sort((a, b) => Number(b.id === lastIdp) - Number(a.id === lastIdp));
        const notice = domain ? `No sign-in is set up for ${domain}; choose one below.` : undefined;
        return { kind: 'chooser', returnTo: returnTo ?? '/', idps: choices, lastIdp, notice };
      }
    }
    const idp = await this.enabledIdp(idpId);
    const trace = this.traces.begin(idpId, idp.protocol, 'login.started');
    return this.recorded(trace, async () => {
      if (returnTo === null) {
        const reason = `returnTo ${String(rawReturnTo).slice(0, 200)} is not an allowed address`;
        await trace.fail('return_to_refused', reason);
        throw new LoginError(400, 'return_to_refused', { traceId: trace.id, detail: reason });
      }
      if (idp.protocol === 'oidc') return this.startOidc(idp, trace, returnTo, browserHash, loginHint);
      let sp;
      try {
        sp = await this.idps.serviceProvider(idp);
      } catch (err) {
        await trace.fail('idp_unavailable', (err as Error).message);
        throw new LoginError(503, 'idp_unavailable', { traceId: trace.id, detail: (err as Error).message });
      }
      const relayState = randomBytes(24).toString('base64url');
      // The request id is kept in the login state alone (taken once, by this browser's RelayState), not in the shared request store.
      const request = await sp.authnRequest(relayState, { remember: false });
      trace.step('saml.authn-request', `binding ${sp.binding}, request ${request.requestId}`, { message: { kind: 'request', text: redactSamlXml(request.xml) } });
      await trace.save((em) => [this.loginState(em, { relayState, idp: idpId, returnTo, traceId: trace.id, requestId: request.requestId, codeVerifier: null, nonce: null, browserHash })]);
      if (request.kind === 'post') return { kind: 'post', idp: idpId, action: request.action, fields: request.fields };
      return { kind: 'redirect', idp: idpId, url: request.url };
    });
  }

  /**
   * `/saml/:idp/acs`: `browserHash` is the binding of the browser that posts (null without its
   * cookie): only the login state it started is taken. A RelayState naming another browser's login
   * is refused before anything else is read, and that login stays open for its own browser.
   */
  async completeSaml(idpId: string, body: Record<string, unknown>, browserHash: string | null): Promise<LoginDone> {
    const rawRelayState = typeof body.RelayState === 'string' ? body.RelayState : undefined;
    const relayState = rawRelayState?.slice(0, 64);
    // Side by side: the IdP, and the login state this response answers (taken once either way).
    const [idp, taken] = await Promise.all([this.enabledIdp(idpId, 'saml'), relayState ? this.consumeState(relayState, idpId, browserHash) : null]);
    const state = taken?.state ?? null;
    const trace = state ? this.traces.pending(state.traceId) : this.traces.begin(idpId, 'saml', 'saml.unsolicited-response');
    const samlResponse = typeof body.SAMLResponse === 'string' ? body.SAMLResponse : '';
    trace.step('saml.response-received', undefined, { message: { kind: 'response', text: redactSamlXml(decodeSamlMessage(samlResponse, false)) } });
    const refuse = this.refusal(trace);

    return this.recorded(trace, async () => {
      if (taken?.elsewhere) throw await refuse('browser_mismatch', ANOTHER_BROWSER);
      let sp;
      try {
        sp = await this.idps.serviceProvider(idp);
      } catch (err) {
        if (err instanceof IdpUnavailableError) throw await refuse('idp_unavailable', err.message, 503);
        throw err;
      }
      let login;
      let keyed;
      try {
        login = await this.validation.verify(sp, samlResponse);
        if (!state && !login.inResponseTo && !idp.options.allowIdpInitiated) {
          throw new SamlValidationError('unsolicited', 'the response answers no login started here (IdP-initiated login is off)');
        }
        // The one-time checks: the request this answers is the one this browser's login state
        // held (the state was taken once, above), and the assertion's id was never used before.
        sp.checkInResponseTo(login, state ? state.requestId : null);
        const expiresAt = login.assertionExpiresAt ?? new Date(Date.now() + this.config.saml.requestTtlMs);
        const firstUse = await this.replay.remember(idpId, login.assertionId, expiresAt);
        if (!firstUse) throw new SamlValidationError('replay', `assertion ${login.assertionId} was already used`);
        // Who signed in: the NameID in the format asked for, never a transient one (or the subjectAttribute).
        keyed = loginSubject(login, { requestedFormat: idp.options.nameIdFormat, subjectAttribute: idp.options.subjectAttribute });
      } catch (err) {
        if (err instanceof SamlValidationError) throw await refuse(err.code, err.message);
        throw err;
      }
      // IdP-initiated: RelayState may name where to go, but only an allowed address.
      const returnTo = state?.returnTo ?? safeReturnTo(rawRelayState, new URL(this.config.publicUrl).origin, this.config.allowedReturnOrigins) ?? '/';
      const keyedOn = idp.options.subjectAttribute ? `, user keyed on ${idp.options.subjectAttribute}: ${keyed.subject}` : '';
      trace.step('saml.response-valid', `NameID ${login.nameId}${keyedOn} (verified in ${login.verifyMs.toFixed(1)} ms${this.validation.threads ? ' on a worker thread' : ''})`, {
        subject: keyed.subject.slice(0, 255),
        subjectFormat: keyed.subjectFormat.slice(0, 255),
        attributes: login.attributes,
      });
      return this.provisionAndSignIn(trace, idpId, refuse, {
        event: { protocol: 'saml', subject: keyed.subject, subjectFormat: keyed.subjectFormat, attributes: login.attributes, sessionIndex: login.sessionIndex },
        session: { nameId: login.nameId, nameIdFormat: login.nameIdFormat, sessionIndex: login.sessionIndex },
        returnTo,
      });
    });
  }

  /** OIDC: an authorization request (PKCE S256, state, nonce) and the login state its callback needs. */
  private async startOidc(idp: IdpEntity, trace: PendingTrace, returnTo: string, browserHash: string, loginHint?: string): Promise<LoginStart> {
    let rp;
    try {
      ({ rp } = await this.oidc.get(idp));
    } catch (err) {
      await trace.fail('idp_unavailable', (err as Error).message);
      throw new LoginError(503, 'idp_unavailable', { traceId: trace.id, detail: (err as Error).message });
    }
    const request = await rp.authorizationRequest({ loginHint: loginHint?.slice(0, 255) });
    const sent = new URL(request.url);
    // The trace (readable with any admin token) never holds what finishes this login: whoever had
    // the state, nonce and PKCE challenge could complete it at the IdP and hand the callback to this browser.
    const traced = new URL(sent);
    for (const secret of ['state', 'nonce', 'code_challenge']) if (traced.searchParams.has(secret)) traced.searchParams.set(secret, '[redacted]');
    trace.step('oidc.authorization-request', `PKCE S256, state and nonce sent to ${sent.origin}${sent.pathname}`, { message: { kind: 'request', text: traced.href } });
    const { state, codeVerifier, nonce } = request.state;
    await trace.save((em) => [this.loginState(em, { relayState: state, idp: idp.id, returnTo, traceId: trace.id, requestId: null, codeVerifier, nonce, browserHash })]);
    return { kind: 'redirect', idp: idp.id, url: request.url };
  }

  /** The login state a started login leaves for its answer, expiring with the request; written with the trace's start. */
  private loginState(em: EntityManager, state: Omit<LoginStateEntity, 'expiresAt'>): PendingWrite {
    const row: LoginStateEntity = { ...state, expiresAt: new Date(Date.now() + this.config.saml.requestTtlMs) };
    return insertWrite(em, LoginStateEntity, row);
  }

  /**
   * `/oidc/:idp/callback`: the state names this browser's login (once); the code is exchanged
   * with its PKCE verifier; the ID token is verified (signature, alg, iss, aud, azp, exp, iat,
   * nonce); userinfo is merged; then the same provisioning and session as SAML.
   */
  async completeOidc(idpId: string, query: Record<string, unknown>, rawQuery: string, browserHash: string | null): Promise<LoginDone> {
    const stateParam = typeof query.state === 'string' ? query.state.slice(0, 64) : undefined;
    const [idp, taken] = await Promise.all([this.enabledIdp(idpId, 'oidc'), stateParam ? this.consumeState(stateParam, idpId, browserHash) : null]);
    const state = taken?.state ?? null;
    if (!state?.codeVerifier || !state.nonce) {
      const trace = this.traces.begin(idpId, 'oidc', 'oidc.callback');
      const [code, reason] = taken?.elsewhere
        ? ['browser_mismatch', ANOTHER_BROWSER]
        : ['state', stateParam ? `state ${stateParam} matches no login started here (unknown, expired or already used)` : 'the callback carries no state'];
      await trace.fail(code, reason);
      throw new LoginError(400, code, { traceId: trace.id, detail: reason });
    }
    const { nonce, codeVerifier } = state;
    const trace = this.traces.pending(state.traceId);
    const refuse = this.refusal(trace);
    return this.recorded(trace, async () => {
      const idpError = typeof query.error === 'string' ? query.error.slice(0, 100) : undefined;
      trace.step('oidc.callback', idpError ? `the identity provider answered ${idpError}` : 'authorization code received');
      let rp;
      try {
        ({ rp } = await this.oidc.get(idp));
      } catch (err) {
        throw await refuse('idp_unavailable', (err as Error).message, 503);
      }
      let login;
      try {
        login = await rp.callback(rawQuery, { state: state.relayState, nonce, codeVerifier });
      } catch (err) {
        if (err instanceof OidcError) {
          // A refused ID token's header stays in the trace (the algorithm and key it names); not its claims, which nothing vouches for.
          if (err.idTokenHeader) trace.step('oidc.id-token-refused', `header alg ${String(err.idTokenHeader.alg ?? '(none)')}`, { message: { kind: 'response', text: JSON.stringify({ header: err.idTokenHeader }, null, 2) } });
          throw await refuse(err.code, err.message);
        }
        throw await refuse('oidc_failed', (err as Error).message, 502);
      }
      const attributes = { ...login.attributes };
      const groupsClaim = idp.oidc?.groupsClaim ?? 'groups';
      if (groupsClaim !== 'groups' && Object.prototype.hasOwnProperty.call(attributes, groupsClaim)) attributes.groups = attributes[groupsClaim];
      trace.step('oidc.id-token-valid', `sub ${login.subject}`, {
        subject: login.subject.slice(0, 255),
        attributes,
        message: { kind: 'response', text: JSON.stringify(login.idTokenView, null, 2) },
      });
      return this.provisionAndSignIn(trace, idpId, refuse, {
        event: { protocol: 'oidc', subject: login.subject, attributes, sessionIndex: login.sid },
        session: { nameId: login.subject, sessionIndex: login.sid, idToken: login.idToken },
        returnTo: state.returnTo,
      });
    });
  }

  /** The enabled IdP a browser names (of the protocol the endpoint speaks), or a 404 page. */
  private async enabledIdp(idpId: string, protocol?: 'saml' | 'oidc'): Promise<IdpEntity> {
    let idp;
    try {
      idp = await this.idps.get(idpId);
    } catch (err) {
      if (err instanceof UnknownIdpError) throw new LoginError(404, 'unknown_idp', { detail: err.message });
      throw err;
    }
    if (protocol && idp.protocol !== protocol) {
      throw new LoginError(404, 'unknown_idp', { detail: `identity provider '${idpId}' does not use ${protocol === 'saml' ? 'SAML' : 'OpenID Connect'}` });
    }
    return idp;
  }

  /** An unexpected error while completing a login still ends its trace, with the steps before it. */
  private async recorded<T>(trace: PendingTrace, work: () => Promise<T>): Promise<T> {
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
  private refusal(trace: PendingTrace) {
    return async (code: string, reason: string, status = 400) => {
      await trace.fail(code, reason);
      return new LoginError(status, code, { traceId: trace.id, detail: reason });
    };
  }

  /** The protocol-independent tail: user.authenticated, provisioning's answer, the session. */
  private async provisionAndSignIn(
    trace: PendingTrace,
    idpId: string,
    refuse: ReturnType<LoginFlowService['refusal']>,
    login: {
      event: { protocol: 'saml' | 'oidc'; subject: string; subjectFormat?: string; attributes: Record<string, string[]>; sessionIndex?: string };
      session: { nameId: string; nameIdFormat?: string; sessionIndex?: string; idToken?: string };
      returnTo: string;
    },
  ): Promise<LoginDone> {
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

  /**
   * The login state a RelayState (SAML) or state (OIDC) names, taken once and only by the browser
   * that started it (`browserHash`): one DELETE … RETURNING where the database has it. When nothing
   * is taken, `elsewhere` says whether the state is held by another browser (or this browser lost
   * its cookie): that state is left as it was, for its own browser.
   */
  private async consumeState(relayState: string, idpId: string, browserHash: string | null): Promise<{ state: LoginStateEntity | null; elsewhere: boolean }> {
    let state: LoginStateEntity | null = null;
    if (browserHash) {
      const bound = { relayState, browserHash };
      if (this.states.manager.connection.driver.isReturningSqlSupported('delete')) {
        const { raw } = await this.states.createQueryBuilder().delete().where(bound).returning('*').execute();
        const row = (raw as Record<string, unknown>[])[0];
        state = row ? this.states.create() : null;
        for (const column of row ? this.states.metadata.columns : []) column.setEntityValue(state!, row[column.databaseName]);
      } else {
        state = await this.states.findOneBy(bound);
        if (state && !(await this.states.delete(bound)).affected) state = null;
      }
    }
    if (!state) return { state: null, elsewhere: await this.states.existsBy({ relayState, idp: idpId, expiresAt: MoreThan(new Date()) }) };
    if (state.idp !== idpId || state.expiresAt.getTime() < Date.now()) return { state: null, elsewhere: false };
    return { state, elsewhere: false };
  }

  async purgeExpired(): Promise<void> {
    await this.states.delete({ expiresAt: LessThan(new Date()) });
  }
}
