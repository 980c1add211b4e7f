import { OidcError } from './errors';

export type Claims = Record<string, unknown>;

export interface IdTokenExpectations {
  /** The pinned algorithm; the token's header must name exactly it. */
  algorithm: string;
  clockSkewMs: number;
  /** The oldest `iat` accepted (past the clock skew): an ID token comes straight from the token endpoint, so it is seconds old. */
  maxAgeMs?: number;
  now?: Date;
}

/**
 * Checks openid-client leaves to the application: `iat` present, not in the future beyond the
 * skew and not older than the maximum age, and the header algorithm pinned (belt and braces: the
 * engine is configured with the same pin).
 */
export function checkIdToken(header: { alg?: string }, claims: Claims, expect: IdTokenExpectations): void {
  if (header.alg !== expect.algorithm) throw new OidcError('algorithm', `the ID token is signed with ${header.alg ?? '(none)'}; only ${expect.algorithm} is accepted`);
  const now = (expect.now ?? new Date()).getTime() / 1000;
  const iat = claims.iat;
  if (typeof iat !== 'number') throw new OidcError('missing_claim', 'the ID token has no iat (issued at) claim');
  const skewS = expect.clockSkewMs / 1000;
  if (iat > now + skewS) {
    throw new OidcError('issued_in_future', `the ID token was issued ${Math.round(iat - now)} s in the future (clock skew allowed: ${skewS} s)`);
  }
  if (expect.maxAgeMs !== undefined && now - iat > expect.maxAgeMs / 1000 + skewS) {
    throw new OidcError('too_old', `the ID token was issued ${Math.round(now - iat)} s ago; at most ${expect.maxAgeMs / 1000} s (plus ${skewS} s of clock skew) is accepted`);
  }
}

/** The JOSE header of a compact JWT, without verifying it (the engine verified it). */
export function jwtHeader(jwt: string): { alg?: string; kid?: string } {
  try {
    return JSON.parse(Buffer.from(jwt.split('.')[0] ?? '', 'base64url').toString('utf8')) as { alg?: string; kid?: string };
  } catch {
    throw new OidcError('malformed', 'the ID token is not a JWT');
  }
}

/** Registered and protocol claims: not user attributes, never mapped. */
const PROTOCOL_CLAIMS = new Set(['iss', 'aud', 'azp', 'exp', 'iat', 'nbf', 'auth_time', 'nonce', 'at_hash', 'c_hash', 's_hash', 'acr', 'amr', 'sid', 'jti', 'typ', 'session_state']);

/**
 * ID token claims and userinfo merged into the attribute map provisioning reads (lists of strings,
 * own keys only, prototype-safe). Userinfo must be about the same subject; its values win
 * (they are the fresher), the ID token fills in the rest.
 */
export function claimsToAttributes(idClaims: Claims, userinfo?: Claims): Record<string, string[]> {
  if (userinfo && userinfo.sub !== idClaims.sub) {
    throw new OidcError('subject_mismatch', `userinfo is about ${String(userinfo.sub)}, the ID token about ${String(idClaims.sub)}`);
  }
  const out: Record<string, string[]> = {};
  for (const source of userinfo ? [idClaims, userinfo] : [idClaims]) {
    for (const key of Object.keys(source)) {
      if (PROTOCOL_CLAIMS.has(key) || key === 'sub' || key === '__proto__' || key === 'constructor' || key === 'prototype') continue;
      const values = toStrings(source[key]);
      if (values.length > 0) Object.defineProperty(out, key, { value: values, enumerable: true, writable: true, configurable: true });
    }
  }
  return out;
}

function toStrings(value: unknown): string[] {
  const list = Array.isArray(value) ? value : [value];
  return list.flatMap((v) => (typeof v === 'string' ? [v] : typeof v === 'number' || typeof v === 'boolean' ? [String(v)] : []));
}
