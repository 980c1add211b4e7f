import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import type { ClientMetadata, Configuration, KoaContextWithOIDC } from 'oidc-provider';
import { TestBrowser } from './test-browser';

/**
 * panva's `oidc-provider` (an OpenID Certified OP), started in-process on 127.0.0.1 as an
 * independent IdP beside Keycloak: the OP's own rules apply (exact redirect and post-logout
 * URIs, pairwise subjects, the ID-token algorithm registered per client). Only the interactions
 * are the test's: whoever `account` names signs in at once, and consent is given for what is
 * asked. The logout confirmation page is a plain form that `TestBrowser` can submit; a client
 * with a `backchannel_logout_uri` gets the OP's signed logout token when its user signs out there.
 * Claims are released per scope (openid, email, profile, groups), and only through userinfo
 * (OIDC Core): a test chooses what a login carries by the IdP's scopes and its userinfo setting.
 */
export interface OidcProviderAccount {
  /** Claims beside `sub` (email, name, groups…); released per scope as the OP decides. */
  claims: Record<string, unknown>;
}

export interface TestOidcProvider {
  issuer: string;
  provider: Provider;
  /** The account the next login signs in as (an accountId of `accounts`). */
  account: string;
  /** The OP's end-session requests (URL), in order. */
  endSessions: URL[];
  /** Follows redirects from `url` in `browser` until one leaves the OP (or a page is shown): signs in, consents, confirms a logout. */
  follow(browser: TestBrowser, url: string | URL): Promise<{ url: URL; res: Response }>;
  stop(): Promise<void>;
}

const CLAIMS: Configuration['claims'] = {
  openid: ['sub'],
  email: ['email', 'email_verified'],
  profile: ['name', 'given_name', 'family_name', 'preferred_username'],
  groups: ['groups'],
};

/** Signing keys of every kind a test asks a client for: RS256/PS256, ES256, and EdDSA / Ed25519. */
function signingKeys() {
  const jwk = (pair: { privateKey: import('node:crypto').KeyObject }) => ({
    ...pair.privateKey.export({ format: 'jwk' }),
    kid: randomBytes(6).toString('hex'),
    use: 'sig',
  });
  return [
    jwk(generateKeyPairSync('rsa', { modulusLength: 2048 })),
    jwk(generateKeyPairSync('ec', { namedCurve: 'P-256' })),
    jwk(generateKeyPairSync('ed25519')),
  ];
}

export async function startOidcProvider(opts: { clients: ClientMetadata[]; accounts: Record<string, OidcProviderAccount> }): Promise<TestOidcProvider> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const salt = randomBytes(8).toString('hex');

  // Loaded here, not at import: every spec that imports @bridgekeeper/testing would load the OP (and its warnings).
  const { default: OidcProvider } = await import('oidc-provider');
  const provider = new OidcProvider(issuer, {
    clients: opts.clients.map((c) => ({
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      ...c,
    })),
    jwks: { keys: signingKeys() as never },
    claims: CLAIMS,
    // OIDC Core 5.4, as the OP ships: claims asked for by scope go to userinfo, never into an ID token issued beside an
    // access token (no End-User claim but `sub`); an RP with userinfo off sees no profile claim. Set here so the tests keep
    // this if the library's default changes.
    conformIdTokenClaims: true,
    scopes: ['openid', 'email', 'profile', 'groups', 'offline_access'],
    subjectTypes: ['public', 'pairwise'],
    pairwiseIdentifier: (_ctx, accountId, client) => createHash('sha256').update(`${client.sectorIdentifier}|${accountId}|${salt}`).digest('base64url'),
    findAccount: (_ctx, sub) => {
      const account = opts.accounts[sub];
      return account ? { accountId: sub, claims: () => ({ sub, ...account.claims }) } : undefined;
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    cookies: { keys: [randomBytes(16).toString('hex')] },
    features: {
      devInteractions: { enabled: false },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        // The OP's confirmation page, without its styling: the form, with "yes" already chosen.
        logoutSource: (ctx: KoaContextWithOIDC, form: string) => {
          ctx.body = `<!DOCTYPE html><title>Sign out</title>${form.replace('</form>', '<input type="hidden" name="logout" value="yes"></form>')}`;
        },
        postLogoutSuccessSource: (ctx: KoaContextWithOIDC) => {
          ctx.body = '<!DOCTYPE html><title>Signed out</title><p>Signed out at the test OP.</p>';
        },
      },
    },
    pkce: { required: () => true },
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
  });
  // Quiet: the OP reports refused requests as events; the test reads their outcome instead.
  provider.on('server_error', (_ctx, err) => console.error('oidc-provider server_error', err));

  const op: TestOidcProvider = {
    issuer,
    provider,
    account: Object.keys(opts.accounts)[0],
    endSessions: [],
    follow: (browser, url) => follow(op, browser, url),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };

  const callback = provider.callback();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/session/end') op.endSessions.push(new URL(req.url ?? '/', issuer));
    if (req.method === 'GET' && /^\/interaction\/[\w-]+$/.test(path)) {
      interact(provider, op, req, res).catch((err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`interaction failed: ${err.message}`));
      return;
    }
    void callback(req, res);
  });
  return op;
}

/** Signs in `op.account` at the login prompt; consents to exactly what the consent prompt lists missing. */
async function interact(provider: Provider, op: TestOidcProvider, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session } = details;
  if (prompt.name === 'login') {
    await provider.interactionFinished(req, res, { login: { accountId: op.account } }, { mergeWithLastSubmission: false });
    return;
  }
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: session!.accountId, clientId: String(params.client_id) });
  const missing = prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
  if (missing.missingOIDCScope) grant!.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant!.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant!.addResourceScope(indicator, scopes.join(' '));
  await provider.interactionFinished(req, res, { consent: { grantId: await grant!.save() } }, { mergeWithLastSubmission: true });
}

/** Redirects and the logout confirmation form, within the OP; stops at the first answer that leaves it or is a page. */
async function follow(op: TestOidcProvider, browser: TestBrowser, start: string | URL): Promise<{ url: URL; res: Response }> {
  let url = new URL(start);
  let init: RequestInit = {};
  for (let hop = 0; hop < 15; hop++) {
    const res = await browser.fetch(url, init);
    init = {};
    const location = res.headers.get('location');
    if (location) {
      url = new URL(location, url);
      if (url.origin !== op.issuer) return { url, res };
      continue;
    }
    const html = res.status === 200 ? await res.clone().text() : '';
    const form = /<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/.exec(html);
    if (!form) return { url, res };
    const fields = new URLSearchParams([...form[2].matchAll(/<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    url = new URL(form[1], url);
    init = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: fields.toString() };
  }
  throw new Error(`more than 15 hops at the test OP, from ${String(start)}`);
}
