import { Injectable, OnModuleInit } from '@nestjs/common';
import { OidcError } from '@bridgekeeper/oidc';
import { LoginTraceService } from '../login-trace/login-trace.service';
import { LoginError } from '../login/login-error';
import { LoginProtocols, LoginRequest, LoginStarter, LoginStart } from '../login/login-protocol';
import { LoginStateStore } from '../login/login-state.store';
import { ANOTHER_BROWSER, LoginDone, SignInService } from '../login/sign-in.service';
import { OidcIdpRegistry } from './oidc-idp.registry';

/**
 * An OpenID Connect login: the authorization request (PKCE S256, state, nonce, with the login
 * state its callback needs), then the callback (code exchange, ID token checks, userinfo), handed
 * to the shared tail (login/).
 */
@Injectable()
export class OidcLoginService implements LoginStarter, OnModuleInit {
  constructor(
    private readonly oidc: OidcIdpRegistry,
    private readonly traces: LoginTraceService,
    private readonly states: LoginStateStore,
    private readonly signIn: SignInService,
    private readonly protocols: LoginProtocols,
  ) {}

  onModuleInit(): void {
    this.protocols.registerLogin('oidc', this);
  }

  /** OIDC: an authorization request (PKCE S256, state, nonce) and the login state its callback needs. */
  async start({ idp, trace, returnTo, browserHash, loginHint }: LoginRequest): Promise<Exclude<LoginStart, { kind: 'chooser' }>> {
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
    trace.step('oidc.authorization-request', `PKCE S256, state and nonce sent to ${sent.origin}${sent.pathname}`, {
      message: { kind: 'request', text: traced.href },
    });
    const { state, codeVerifier, nonce } = request.state;
    await trace.save((em) => [
      this.states.write(em, { relayState: state, idp: idp.id, returnTo, traceId: trace.id, requestId: null, codeVerifier, nonce, browserHash }),
    ]);
    return { kind: 'redirect', idp: idp.id, url: request.url };
  }

  /**
   * `/oidc/:idp/callback`: the state names this browser's login (once); the code is exchanged
   * with its PKCE verifier; the ID token is verified (signature, alg, iss, aud, azp, exp, iat,
   * nonce); userinfo is merged; then the same provisioning and session as SAML.
   */
  async complete(idpId: string, query: Record<string, unknown>, rawQuery: string, browserHash: string | null): Promise<LoginDone> {
    const stateParam = typeof query.state === 'string' ? query.state.slice(0, 64) : undefined;
    const [idp, taken] = await Promise.all([this.signIn.enabledIdp(idpId, 'oidc'), stateParam ? this.states.take(stateParam, idpId, browserHash) : null]);
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
    const refuse = this.signIn.refusal(trace);
    return this.signIn.recorded(trace, async () => {
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
          if (err.idTokenHeader)
            trace.step('oidc.id-token-refused', `header alg ${String(err.idTokenHeader.alg ?? '(none)')}`, {
              message: { kind: 'response', text: JSON.stringify({ header: err.idTokenHeader }, null, 2) },
            });
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
      return this.signIn.provisionAndSignIn(trace, idpId, refuse, {
        event: { protocol: 'oidc', subject: login.subject, attributes, sessionIndex: login.sid },
        session: { nameId: login.subject, sessionIndex: login.sid, idToken: login.idToken },
        returnTo: state.returnTo,
      });
    });
  }
}
