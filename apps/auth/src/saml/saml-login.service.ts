import { randomBytes } from 'node:crypto';
import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { decodeSamlMessage, loginSubject, redactSamlXml, SamlValidationError, SamlValidationPool } from '@bridgekeeper/saml';
import { AUTH_CONFIG, AuthConfig } from '../config/auth.config';
import { IdpUnavailableError } from '../idps/idp-errors';
import { LoginTraceService } from '../login-trace/login-trace.service';
import { LoginError } from '../login/login-error';
import { LoginProtocols, LoginRequest, LoginStarter, LoginStart } from '../login/login-protocol';
import { LoginStateStore } from '../login/login-state.store';
import { AssertionReplayStore } from '../login/replay.store';
import { ANOTHER_BROWSER, LoginDone, SignInService } from '../login/sign-in.service';
import { safeReturnTo } from '../return-to';
import { SamlIdpRegistry } from './saml-idp.registry';

/**
 * A SAML login: the AuthnRequest (with the login state its answer needs), then the response at the
 * ACS (validated, checked once, its subject read), handed to the shared tail (login/).
 */
@Injectable()
export class SamlLoginService implements LoginStarter, OnModuleInit {
  constructor(
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    private readonly idps: SamlIdpRegistry,
    private readonly replay: AssertionReplayStore,
    private readonly validation: SamlValidationPool,
    private readonly traces: LoginTraceService,
    private readonly states: LoginStateStore,
    private readonly signIn: SignInService,
    private readonly protocols: LoginProtocols,
  ) {}

  onModuleInit(): void {
    this.protocols.registerLogin('saml', this);
  }

  /** The AuthnRequest (redirect or auto-posted form), its id kept in this browser's login state. */
  async start({ idp, trace, returnTo, browserHash }: LoginRequest): Promise<Exclude<LoginStart, { kind: 'chooser' }>> {
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
    await trace.save((em) => [
      this.states.write(em, {
        relayState,
        idp: idp.id,
        returnTo,
        traceId: trace.id,
        requestId: request.requestId,
        codeVerifier: null,
        nonce: null,
        browserHash,
      }),
    ]);
    if (request.kind === 'post') return { kind: 'post', idp: idp.id, action: request.action, fields: request.fields };
    return { kind: 'redirect', idp: idp.id, url: request.url };
  }

  /**
   * `/saml/:idp/acs`: `browserHash` is the binding of the browser that posts (null without its
   * cookie): only the login state it started is taken. A RelayState naming another browser's login
   * is refused before anything else is read, and that login stays open for its own browser.
   */
  async complete(idpId: string, body: Record<string, unknown>, browserHash: string | null): Promise<LoginDone> {
    const rawRelayState = typeof body.RelayState === 'string' ? body.RelayState : undefined;
    const relayState = rawRelayState?.slice(0, 64);
    // Side by side: the IdP, and the login state this response answers (taken once either way).
    const [idp, taken] = await Promise.all([this.signIn.enabledIdp(idpId, 'saml'), relayState ? this.states.take(relayState, idpId, browserHash) : null]);
    const state = taken?.state ?? null;
    const trace = state ? this.traces.pending(state.traceId) : this.traces.begin(idpId, 'saml', 'saml.unsolicited-response');
    const samlResponse = typeof body.SAMLResponse === 'string' ? body.SAMLResponse : '';
    trace.step('saml.response-received', undefined, { message: { kind: 'response', text: redactSamlXml(decodeSamlMessage(samlResponse, false)) } });
    const refuse = this.signIn.refusal(trace);

    return this.signIn.recorded(trace, async () => {
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
      trace.step(
        'saml.response-valid',
        `NameID ${login.nameId}${keyedOn} (verified in ${login.verifyMs.toFixed(1)} ms${this.validation.threads ? ' on a worker thread' : ''})`,
        {
          subject: keyed.subject.slice(0, 255),
          subjectFormat: keyed.subjectFormat.slice(0, 255),
          attributes: login.attributes,
        },
      );
      return this.signIn.provisionAndSignIn(trace, idpId, refuse, {
        event: { protocol: 'saml', subject: keyed.subject, subjectFormat: keyed.subjectFormat, attributes: login.attributes, sessionIndex: login.sessionIndex },
        session: { nameId: login.nameId, nameIdFormat: login.nameIdFormat, sessionIndex: login.sessionIndex },
        returnTo,
      });
    });
  }
}
