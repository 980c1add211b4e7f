import { createHash, generateKeyPairSync, KeyObject, randomBytes } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { exportJWK, SignJWT } from 'jose';

/**
 * An OpenID Provider under the test's control: discovery, JWKS, authorize (signs in whoever the
 * test says, at once), token (PKCE checked, codes single-use), userinfo, end-session. The next
 * login's answer can be bent to produce every bad case: a wrong signature, issuer, audience,
 * expiry, nonce or state, `alg: none`, an unknown key, a userinfo `sub` that differs.
 */
export interface OidcScenario {
  /** Claims merged over the ID token's (undefined values remove a claim). */
  claims?: Record<string, unknown>;
  /** How the ID token is signed: the IdP's key (default), another key under the same kid, no signature, HS256 with the client secret, or a key the JWKS does not list. */
  sign?: 'idp' | 'foreign-key' | 'none' | 'hs256-client-secret' | 'unknown-kid';
  /** The state sent back on the redirect (default: the one received). */
  state?: string;
  userinfo?: Record<string, unknown>;
}

export interface OidcTestUser {
  sub: string;
  claims: Record<string, unknown>;
}

export interface OidcTestIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Who signs in at the next authorize (default: the first user). */
  user: OidcTestUser;
  /** Bends the next login's answer; reset after it is used. */
  next: OidcScenario;
  jwksFetches: number;
  /** The last authorization request's parameters. */
  lastAuthorize?: URLSearchParams;
  /** A back-channel logout token for `sub` / `sid`, signed by the IdP (claims override). */
  logoutToken(claims: Record<string, unknown>, sign?: OidcScenario['sign']): Promise<string>;
  /** Replaces the signing key (a key rotation): the JWKS lists only the new key. */
  rotateKey(): void;
  stop(): Promise<void>;
}

interface Pending {
  clientId: string;
  redirectUri: string;
  nonce?: string;
  challenge?: string;
  user: OidcTestUser;
  scenario: OidcScenario;
  used: boolean;
}

const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

export async function startOidcIdp(opts: { clientId: string; clientSecret: string; users: OidcTestUser[] }): Promise<OidcTestIdp> {
  let key = newKey();
  const foreign = newKey();
  const codes = new Map<string, Pending>();
  const tokens = new Map<string, { user: OidcTestUser; scenario: OidcScenario }>();

  const idp: OidcTestIdp = {
    issuer: '',
    clientId: opts.clientId,
    clientSecret: opts.clientSecret,
    user: opts.users[0],
    next: {},
    jwksFetches: 0,
    logoutToken: (claims, sign = 'idp') =>
      signJwt(
        {
          iss: idp.issuer,
          aud: opts.clientId,
          iat: now(),
          exp: now() + 120,
          jti: randomBytes(8).toString('hex'),
          events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
          ...claims,
        },
        sign,
        'logout+jwt',
      ),
    rotateKey: () => void (key = newKey()),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };

  async function signJwt(claims: Record<string, unknown>, sign: NonNullable<OidcScenario['sign']>, typ = 'JWT'): Promise<string> {
    const payload = Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined));
    switch (sign) {
      case 'none':
        return `${b64url({ alg: 'none', typ })}.${b64url(payload)}.`;
      case 'hs256-client-secret':
        return new SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ }).sign(new TextEncoder().encode(opts.clientSecret));
      case 'foreign-key':
        return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: key.kid, typ }).sign(foreign.privateKey);
      case 'unknown-kid':
        return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: foreign.kid, typ }).sign(foreign.privateKey);
      default:
        return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: key.kid, typ }).sign(key.privateKey);
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', idp.issuer);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
    };
    switch (url.pathname) {
      case '/.well-known/openid-configuration':
        return json(200, {
          issuer: idp.issuer,
          authorization_endpoint: `${idp.issuer}/authorize`,
          token_endpoint: `${idp.issuer}/token`,
          userinfo_endpoint: `${idp.issuer}/userinfo`,
          jwks_uri: `${idp.issuer}/jwks`,
          end_session_endpoint: `${idp.issuer}/logout`,
          response_types_supported: ['code'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['RS256', 'HS256'],
          code_challenge_methods_supported: ['S256'],
          authorization_response_iss_parameter_supported: true,
          backchannel_logout_supported: true,
          backchannel_logout_session_supported: true,
        });
      case '/jwks':
        idp.jwksFetches++;
        return json(200, { keys: [{ ...(await exportJWK(key.publicKey)), kid: key.kid, alg: 'RS256', use: 'sig' }] });
      case '/authorize': {
        const q = url.searchParams;
        idp.lastAuthorize = q;
        if (q.get('client_id') !== opts.clientId || !q.get('redirect_uri')) return json(400, { error: 'invalid_request' });
        const code = randomBytes(16).toString('base64url');
        codes.set(code, {
          clientId: opts.clientId,
          redirectUri: q.get('redirect_uri')!,
          nonce: q.get('nonce') ?? undefined,
          challenge: q.get('code_challenge') ?? undefined,
          user: idp.user,
          scenario: idp.next,
          used: false,
        });
        idp.next = {};
        const back = new URL(q.get('redirect_uri')!);
        back.searchParams.set('code', code);
        const state = codes.get(code)!.scenario.state ?? q.get('state');
        if (state) back.searchParams.set('state', state);
        back.searchParams.set('iss', idp.issuer);
        res.writeHead(302, { location: back.href }).end();
        return;
      }
      case '/token': {
        const body = new URLSearchParams(await readBody(req));
        const [id, secret] = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64')
          .toString()
          .split(':')
          .map(decodeURIComponent);
        if (id !== opts.clientId || secret !== opts.clientSecret) return json(401, { error: 'invalid_client' });
        const pending = codes.get(body.get('code') ?? '');
        if (!pending || pending.used) return json(400, { error: 'invalid_grant', error_description: 'Code not valid' });
        pending.used = true;
        if (body.get('redirect_uri') !== pending.redirectUri) return json(400, { error: 'invalid_grant', error_description: 'redirect_uri mismatch' });
        const verifier = body.get('code_verifier') ?? '';
        if (!pending.challenge || createHash('sha256').update(verifier).digest('base64url') !== pending.challenge)
          return json(400, { error: 'invalid_grant', error_description: 'PKCE verification failed' });
        const accessToken = randomBytes(16).toString('base64url');
        tokens.set(accessToken, { user: pending.user, scenario: pending.scenario });
        const claims = {
          iss: idp.issuer,
          aud: opts.clientId,
          azp: opts.clientId,
          sub: pending.user.sub,
          iat: now(),
          exp: now() + 300,
          nonce: pending.nonce,
          sid: `sid-${pending.user.sub}`,
          ...pending.user.claims,
          ...pending.scenario.claims,
        };
        return json(200, { access_token: accessToken, token_type: 'Bearer', expires_in: 300, id_token: await signJwt(claims, pending.scenario.sign ?? 'idp') });
      }
      case '/userinfo': {
        const token = tokens.get((req.headers.authorization ?? '').replace(/^Bearer /, ''));
        if (!token) return json(401, { error: 'invalid_token' });
        return json(200, { sub: token.user.sub, ...token.user.claims, ...token.scenario.userinfo });
      }
      case '/logout': {
        const to = url.searchParams.get('post_logout_redirect_uri');
        res.writeHead(to ? 302 : 200, to ? { location: to } : {}).end('signed out');
        return;
      }
      default:
        json(404, { error: 'not_found' });
    }
  }

  const server: Server = createServer((req, res) => void handle(req, res).catch((err) => res.writeHead(500).end(String(err))));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  idp.issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return idp;
}

function newKey(): { kid: string; privateKey: KeyObject; publicKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid: randomBytes(6).toString('hex'), privateKey, publicKey };
}

const now = () => Math.floor(Date.now() / 1000);

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
