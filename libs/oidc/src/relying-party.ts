import { AsyncLocalStorage } from 'node:async_hooks';
import * as client from 'openid-client';
import { Strategy, type AuthenticateOptions } from 'openid-client/passport';
import { Passport } from 'passport';
import { acceptedAlgorithms, algorithmMismatch, checkIdToken, Claims, claimsToAttributes, jwtHeader } from './claims';
import { OidcDiscovery } from './discovery';
import { classifyOidcError, OidcError } from './errors';

export interface RelyingPartyConfig {
  /** The IdP id used in URLs: /oidc/<id>/callback. */
  idpId: string;
  publicUrl: string;
  /** The last good discovery document (its issuer was checked when it was fetched). */
  discovery: OidcDiscovery;
  clientId: string;
  clientSecret: string;
  scopes: string[];
  /** The one algorithm ID tokens may be signed with (RS256 unless configured). */
  idTokenAlgorithm: string;
  /** Also read the userinfo endpoint and merge its claims (same `sub` required). */
  userinfo: boolean;
  clockSkewMs: number;
  /** The oldest ID token accepted (its `iat`), past the clock skew. */
  maxIdTokenAgeMs: number;
  /** Plain-http IdPs (dev Keycloak); refused in production. */
  allowHttp: boolean;
  /** The fetch used for the token, userinfo and JWKS endpoints (limits and address checks). */
  fetch?: typeof fetch;
}

/**
 * The URLs an admin registers at the IdP. `postLogoutRedirect` is one fixed URI, the same for
 * every logout (an OP may match it exactly): where the browser goes afterwards rides in `state`.
 */
export const oidcUrls = (publicUrl: string, idpId: string) => {
  const root = publicUrl.replace(/\/$/, '');
  const base = `${root}/oidc/${encodeURIComponent(idpId)}`;
  return { callback: `${base}/callback`, backchannelLogout: `${base}/backchannel-logout`, postLogoutRedirect: `${root}/` };
};

/** What a login must remember between the redirect and the callback (kept server-side). */
export interface AuthorizationState {
  state: string;
  nonce: string;
  codeVerifier: string;
}

export interface OidcLogin {
  subject: string;
  /** ID token claims merged with userinfo, as attribute lists for provisioning. */
  attributes: Record<string, string[]>;
  idToken: string;
  /** The ID token's header and claims (for the login trace; the signature is not kept). */
  idTokenView: { header: Record<string, unknown>; claims: Claims };
  /** Keycloak's session id (`sid`), which back-channel logout names. */
  sid?: string;
}

/** A passport request, as the strategy reads it: the callback URL's query and our session slot. */
interface StrategyRequest {
  method: 'GET';
  url: string;
  originalUrl: string;
  protocol: string;
  headers: Record<string, string>;
  get(name: string): string | undefined;
  app: { get(name: string): unknown };
  session: Record<string, unknown>;
  /** The state and nonce this login sends (the strategy itself sends neither when PKCE is on). */
  bridgekeeper?: { state: string; nonce: string };
}

/**
 * openid-client's passport strategy with `state` and `nonce` always sent, on top of the PKCE it
 * adds itself: the three protect different things (CSRF, token injection, code interception).
 */
class StateAndNonceStrategy extends Strategy {
  override authorizationRequestParams<TOptions extends AuthenticateOptions>(req: never, options: TOptions): URLSearchParams {
    const params = new URLSearchParams(super.authorizationRequestParams(req, options) as URLSearchParams | Record<string, string> | undefined);
    const own = (req as StrategyRequest).bridgekeeper;
    if (own) {
      params.set('state', own.state);
      params.set('nonce', own.nonce);
    }
    return params;
  }
}

type StrategyOutcome =
  | { kind: 'redirect'; url: string }
  | { kind: 'success'; tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers }
  | { kind: 'fail'; info: unknown }
  | { kind: 'error'; error: unknown };

const SESSION_KEY = 'oidc';

/** The ID token of the token response a callback is reading (kept to say why it was refused). */
const tokenResponse = new AsyncLocalStorage<{ idToken?: string }>();

/**
 * One OIDC relying party for one IdP: passport as the strategy layer, openid-client as the
 * protocol engine (authorization code + PKCE S256, state, nonce, ID token verified against the
 * IdP's JWKS with the algorithm pinned, iss / aud / azp / exp / nonce checked), plus the checks
 * the engine leaves to the application (iat in the future, userinfo about the same subject).
 * The JWKS is cached in the engine's configuration: an unknown `kid` refetches it at most once
 * a minute, never once per request.
 */
export class OidcRelyingParty {
  readonly urls: ReturnType<typeof oidcUrls>;
  private readonly engine: client.Configuration;
  private readonly passport = new Passport();

  constructor(readonly settings: RelyingPartyConfig) {
    this.urls = oidcUrls(settings.publicUrl, settings.idpId);
    // The algorithm pin: with no client-level algorithm the engine accepts exactly the server
    // metadata's list, which is ours to give: the configured algorithm (and its other name, for
    // EdDSA / Ed25519), whatever else the IdP's discovery document lists.
    this.engine = new client.Configuration(
      { ...settings.discovery, id_token_signing_alg_values_supported: acceptedAlgorithms(settings.idTokenAlgorithm) } as client.ServerMetadata,
      settings.clientId,
      { [client.clockTolerance]: Math.round(settings.clockSkewMs / 1000) },
      client.ClientSecretBasic(settings.clientSecret),
    );
    this.engine.timeout = 10;
    const send = settings.fetch ?? fetch;
    const tokenEndpoint = settings.discovery.token_endpoint;
    // The token response's ID token is remembered for the callback reading it, so that a refused
    // token's header still reaches the login trace (the engine's errors do not carry it).
    this.engine[client.customFetch] = (async (url: string, init: RequestInit) => {
      const res = await send(url, init);
      const slot = tokenResponse.getStore();
      if (slot && sameUrl(url, tokenEndpoint) && res.ok) {
        const body = (await res
          .clone()
          .json()
          .catch(() => undefined)) as { id_token?: unknown } | undefined;
        if (typeof body?.id_token === 'string') slot.idToken = body.id_token;
      }
      return res;
    }) as never;
    if (settings.allowHttp) client.allowInsecureRequests(this.engine);
    // openid-client skips the ID token's signature when it comes straight from the token endpoint
    // (OIDC Core allows it over TLS); Bridgekeeper verifies it against the JWKS, always.
    client.enableNonRepudiationChecks(this.engine);
    const strategy = new StateAndNonceStrategy(
      { config: this.engine, name: 'oidc', sessionKey: SESSION_KEY, callbackURL: this.urls.callback, scope: settings.scopes.join(' ') },
      (tokens, verified) => verified(null, tokens as never),
    );
    this.passport.use('oidc', strategy as never);
  }

  /** The URL that starts a login at the IdP, and the state to keep until its callback. */
  async authorizationRequest(opts: { loginHint?: string; prompt?: string } = {}): Promise<{ url: string; state: AuthorizationState }> {
    const own = { state: client.randomState(), nonce: client.randomNonce() };
    const req = strategyRequest('/', {}, own);
    const outcome = await this.run(req, { loginHint: opts.loginHint, prompt: opts.prompt });
    if (outcome.kind !== 'redirect') throw classifyOidcError(outcome.kind === 'error' ? outcome.error : new Error('the strategy did not redirect'));
    const kept = req.session[SESSION_KEY] as { code_verifier?: string; state?: string; nonce?: string } | undefined;
    if (!kept?.code_verifier || kept.state !== own.state || kept.nonce !== own.nonce) throw new Error('the strategy kept no PKCE verifier, state or nonce');
    return { url: outcome.url, state: { state: own.state, nonce: own.nonce, codeVerifier: kept.code_verifier } };
  }

  /**
   * The callback: exchanges the code (PKCE verifier, expected state and nonce from the login's
   * kept state), verifies the ID token, merges userinfo. Throws OidcError with the reason.
   */
  async callback(callbackQuery: string, kept: AuthorizationState): Promise<OidcLogin> {
    const received: { idToken?: string } = {};
    try {
      return await tokenResponse.run(received, () => this.completeCallback(callbackQuery, kept));
    } catch (err) {
      const header = received.idToken ? safeHeader(received.idToken) : undefined;
      // Whatever the engine says first, a token signed with another algorithm is said as such.
      const refused =
        header && !acceptedAlgorithms(this.settings.idTokenAlgorithm).includes(String(header.alg))
          ? algorithmMismatch(header.alg, this.settings.idTokenAlgorithm, this.settings.idpId)
          : classifyOidcError(err);
      // Only a refused ID token's header: a failure after it was accepted (userinfo) is no ID token's.
      if (ID_TOKEN_REFUSALS.has(refused.code)) refused.idTokenHeader ??= header;
      throw refused;
    }
  }

  private async completeCallback(callbackQuery: string, kept: AuthorizationState): Promise<OidcLogin> {
    const req = strategyRequest(`/callback?${callbackQuery}`, { [SESSION_KEY]: { code_verifier: kept.codeVerifier, state: kept.state, nonce: kept.nonce } });
    const outcome = await this.run(req, {});
    if (outcome.kind === 'error') throw classifyOidcError(outcome.error);
    if (outcome.kind === 'fail') throw new OidcError('idp_error', `the identity provider refused the login: ${describe(outcome.info)}`);
    if (outcome.kind !== 'success') throw new OidcError('malformed', 'the callback carried no authorization code');
    const { tokens } = outcome;
    const idToken = tokens.id_token;
    const claims = tokens.claims() as Claims | undefined;
    if (!idToken || !claims) throw new OidcError('malformed', 'the token response carried no ID token');
    const header = jwtHeader(idToken);
    checkIdToken(header, claims, {
      algorithm: this.settings.idTokenAlgorithm,
      clockSkewMs: this.settings.clockSkewMs,
      maxAgeMs: this.settings.maxIdTokenAgeMs,
      idpId: this.settings.idpId,
    });
    const subject = String(claims.sub);
    let userinfo: Claims | undefined;
    if (this.settings.userinfo && this.engine.serverMetadata().userinfo_endpoint) {
      try {
        userinfo = (await client.fetchUserInfo(this.engine, tokens.access_token, subject)) as Claims;
      } catch (err) {
        const e = classifyOidcError(err);
        throw e.code === 'subject_mismatch' ? e : new OidcError('userinfo', `reading userinfo failed: ${e.message}`);
      }
    }
    return {
      subject,
      attributes: claimsToAttributes(claims, userinfo),
      idToken,
      idTokenView: { header, claims },
      sid: typeof claims.sid === 'string' ? claims.sid : undefined,
    };
  }

  /**
   * RP-initiated logout at the IdP's end-session endpoint, when it has one: back to the one fixed
   * post-logout URI, with `returnTo` (where to go from there) carried in `state`.
   */
  endSessionUrl(idTokenHint: string | undefined, state?: string): string | null {
    if (!this.engine.serverMetadata().end_session_endpoint) return null;
    const params: Record<string, string> = { post_logout_redirect_uri: this.urls.postLogoutRedirect, client_id: this.settings.clientId };
    if (idTokenHint) params.id_token_hint = idTokenHint;
    if (state) params.state = state;
    return client.buildEndSessionUrl(this.engine, params).href;
  }

  private run(req: StrategyRequest, options: Record<string, unknown>): Promise<StrategyOutcome> {
    return new Promise((resolve) => {
      const headers: Record<string, string> = {};
      const res = {
        statusCode: 200,
        setHeader: (name: string, value: string) => void (headers[name.toLowerCase()] = value),
        end: () => resolve({ kind: 'redirect', url: headers.location ?? '' }),
      };
      const middleware = this.passport.authenticate('oidc', { session: false, ...options }, (error: unknown, user: unknown, info: unknown) => {
        if (error) resolve({ kind: 'error', error });
        else if (!user) resolve({ kind: 'fail', info });
        else resolve({ kind: 'success', tokens: user as never });
      });
      middleware(req as never, res as never, (error?: unknown) => resolve({ kind: 'error', error: error ?? new Error('passport passed the request on') }));
    });
  }
}

function strategyRequest(path: string, session: Record<string, unknown>, own?: { state: string; nonce: string }): StrategyRequest {
  return {
    method: 'GET',
    url: path,
    originalUrl: path,
    protocol: 'https',
    headers: {},
    get: () => undefined,
    app: { get: () => undefined },
    session,
    bridgekeeper: own,
  };
}

/** A received ID token's header for the trace: at most 2,000 characters of it, else its alg, kid and typ alone. */
function safeHeader(jwt: string): Record<string, unknown> | undefined {
  try {
    const header = jwtHeader(jwt);
    if (JSON.stringify(header).length <= 2000) return header;
    return Object.fromEntries(['alg', 'kid', 'typ'].filter((k) => typeof header[k] === 'string').map((k) => [k, String(header[k]).slice(0, 200)]));
  } catch {
    return undefined;
  }
}

function describe(info: unknown): string {
  if (!info) return 'no reason given';
  if (typeof info === 'string') return info;
  const i = info as { message?: string; error?: string; error_description?: string };
  return [i.error, i.error_description ?? i.message].filter(Boolean).join(': ') || JSON.stringify(info).slice(0, 300);
}

/** The refusals that are the ID token's own (its header goes to the trace with them). */
const ID_TOKEN_REFUSALS: ReadonlySet<string> = new Set([
  'nonce',
  'signature',
  'algorithm',
  'unknown_key',
  'issuer',
  'audience',
  'expired',
  'issued_in_future',
  'too_old',
  'missing_claim',
  'malformed',
]);

/** Whether two URLs are the same once normalised (openid-client passes URL.href; discovery may spell it otherwise). */
function sameUrl(a: string, b: string | undefined): boolean {
  if (!b) return false;
  try {
    return new URL(a).href === new URL(b).href;
  } catch {
    return false;
  }
}
