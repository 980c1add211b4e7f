import { createRemoteJWKSet, customFetch, errors, jwtVerify } from 'jose';
import { acceptedAlgorithms } from './claims';
import { OidcError } from './errors';

const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

export interface LogoutTokenExpectations {
  issuer: string;
  clientId: string;
  algorithm: string;
  clockSkewMs: number;
}

export interface LogoutNotice {
  sub?: string;
  sid?: string;
  jti: string;
  /** Until when the token's id must be remembered (replay). */
  expiresAt: Date;
}

/**
 * Verifies back-channel logout tokens (OpenID Connect Back-Channel Logout 1.0, §2.6) against the
 * IdP's JWKS: signature with the pinned algorithm, iss, aud, iat / exp, a `jti`, the
 * back-channel logout event, `sub` or `sid`, and no `nonce` (an ID token is not a logout token).
 * Unknown keys refetch the JWKS at most once a minute.
 */
export class LogoutTokenVerifier {
  private readonly jwks: ReturnType<typeof createRemoteJWKSet>;

  constructor(
    jwksUri: string,
    private readonly expect: LogoutTokenExpectations,
    fetchImpl?: typeof fetch,
  ) {
    this.jwks = createRemoteJWKSet(new URL(jwksUri), {
      cooldownDuration: 60_000,
      timeoutDuration: 5_000,
      ...(fetchImpl ? { [customFetch]: fetchImpl as never } : {}),
    });
  }

  async verify(token: string): Promise<LogoutNotice> {
    if (typeof token !== 'string' || token.length === 0 || token.length > 16_384) throw new OidcError('malformed', 'no logout_token was posted');
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.jwks, {
        issuer: this.expect.issuer,
        audience: this.expect.clientId,
        algorithms: acceptedAlgorithms(this.expect.algorithm),
        clockTolerance: Math.round(this.expect.clockSkewMs / 1000),
        requiredClaims: ['iat', 'jti'],
        maxTokenAge: '10m',
      }));
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      const message = (err as Error).message;
      // The IdP's keys could not be read (unreachable, slow, not a JWKS): nothing is known about
      // the token yet, so it is not refused; the caller answers so that the IdP sends it again.
      if (jwksUnavailable(err)) throw new OidcError('jwks_unavailable', `the identity provider's JWKS could not be read: ${message}`);
      if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') throw new OidcError('signature', `the logout token signature is invalid`);
      if (code === 'ERR_JWKS_NO_MATCHING_KEY') throw new OidcError('unknown_key', 'no key of the identity provider verifies the logout token');
      if (code === 'ERR_JOSE_ALG_NOT_ALLOWED') throw new OidcError('algorithm', `the logout token algorithm is refused: ${message}`);
      if (code === 'ERR_JWT_EXPIRED') throw new OidcError('expired', `the logout token expired: ${message}`);
      if (/"iss"/.test(message)) throw new OidcError('issuer', `the logout token issuer is wrong: ${message}`);
      if (/"aud"/.test(message)) throw new OidcError('audience', `the logout token is for another client: ${message}`);
      throw new OidcError('malformed', `the logout token was refused: ${message}`);
    }
    if (typeof payload.iat === 'number' && payload.iat > Date.now() / 1000 + this.expect.clockSkewMs / 1000)
      throw new OidcError('issued_in_future', 'the logout token was issued in the future');
    const events = payload.events as Record<string, unknown> | undefined;
    if (!events || typeof events !== 'object' || typeof events[BACKCHANNEL_EVENT] !== 'object')
      throw new OidcError('malformed', 'the token carries no back-channel logout event');
    if ('nonce' in payload) throw new OidcError('malformed', 'a logout token never carries a nonce (this looks like an ID token)');
    const sub = typeof payload.sub === 'string' ? payload.sub : undefined;
    const sid = typeof payload.sid === 'string' ? payload.sid : undefined;
    if (!sub && !sid) throw new OidcError('malformed', 'the logout token names neither sub nor sid');
    const expiresAt = new Date(((typeof payload.exp === 'number' ? payload.exp : (payload.iat as number) + 600) + 60) * 1000);
    return { sub, sid, jti: String(payload.jti), expiresAt };
  }
}

/** jose's own errors are about the token, except those of fetching the JWKS; anything else comes from the fetch itself. */
function jwksUnavailable(err: unknown): boolean {
  if (!(err instanceof errors.JOSEError)) return true;
  if (err.code === 'ERR_JWKS_TIMEOUT' || err.code === 'ERR_JWKS_INVALID') return true;
  return err.code === 'ERR_JOSE_GENERIC' && /JSON Web Key Set HTTP response/.test(err.message);
}
