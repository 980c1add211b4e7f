import { OidcError } from './errors';

export type Claims = Record<string, unknown>;

/** Asymmetric algorithms, and HS256 (keyed with the client secret) only when chosen. `Ed25519` is RFC 9864's fully specified name. */
export const ID_TOKEN_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519', 'HS256'] as const;

/**
 * The header algorithms an ID token (or logout token) may carry when `configured` is pinned:
 * exactly it, except that `EdDSA` and `Ed25519` name the same algorithm (RFC 9864: `Ed25519` is
 * the fully specified name of EdDSA over Ed25519; the engine accepts only Ed25519 keys for either).
 */
export function acceptedAlgorithms(configured: string): string[] {
  return configured === 'EdDSA' || configured === 'Ed25519' ? [configured, configured === 'EdDSA' ? 'Ed25519' : 'EdDSA'] : [configured];
}

/** An ID token signed with another algorithm than configured: what was received, and what to change (here or at the IdP). */
export function algorithmMismatch(received: unknown, configured: string, idpId?: string): OidcError {
  const alg = typeof received === 'string' && received.length <= 20 ? received : '(none)';
  const where = `the IdP's oidc.idTokenAlgorithm (PATCH /api/v1/idps/${idpId ?? '{id}'})`;
  const fix = (ID_TOKEN_ALGORITHMS as readonly string[]).includes(alg)
    ? `if the IdP is meant to sign with ${alg}, set ${where} to ${alg}; otherwise set the client's ID-token signature algorithm at the IdP to ${configured}`
    : `${alg} is not an algorithm Bridgekeeper accepts: set the client's ID-token signature algorithm at the IdP to ${configured} (or one of ${ID_TOKEN_ALGORITHMS.join(', ')}, and ${where} to match)`;
  return new OidcError('algorithm', `the ID token is signed with ${alg}, but this IdP is configured for ${configured}: ${fix}`);
}

export interface IdTokenExpectations {
  /** The pinned algorithm; the token's header must name exactly it. */
  algorithm: string;
  clockSkewMs: number;
  /** The oldest `iat` accepted (past the clock skew): an ID token comes straight from the token endpoint, so it is seconds old. */
  maxAgeMs?: number;
  now?: Date;
  /** Named in the advice of an algorithm mismatch. */
  idpId?: string;
}

/**
 * Checks openid-client leaves to the application: `iat` present, not in the future beyond the
 * skew and not older than the maximum age, and the header algorithm pinned (belt and braces: the
 * engine is configured with the same pin).
 */
export function checkIdToken(header: { alg?: string }, claims: Claims, expect: IdTokenExpectations): void {
  if (!acceptedAlgorithms(expect.algorithm).includes(header.alg ?? '')) throw algorithmMismatch(header.alg, expect.algorithm, expect.idpId);
  const now = (expect.now ?? new Date()).getTime() / 1000;
  const iat = claims.iat;
  if (typeof iat !== 'number') throw new OidcError('missing_claim', 'the ID token has no iat (issued at) claim');
  const skewS = expect.clockSkewMs / 1000;
  if (iat > now + skewS) {
    throw new OidcError('issued_in_future', `the ID token was issued ${Math.round(iat - now)} s in the future (clock skew allowed: ${skewS} s)`);
  }
  if (expect.maxAgeMs !== undefined && now - iat > expect.maxAgeMs / 1000 + skewS) {
    throw new OidcError(
      'too_old',
      `the ID token was issued ${Math.round(now - iat)} s ago; at most ${expect.maxAgeMs / 1000} s (plus ${skewS} s of clock skew) is accepted`,
    );
  }
}

/** The JOSE header of a compact JWT, without verifying it (the engine verified it, or it is kept to say why it was refused). */
export function jwtHeader(jwt: string): { alg?: string; kid?: string } & Record<string, unknown> {
  try {
    return JSON.parse(Buffer.from(jwt.split('.')[0] ?? '', 'base64url').toString('utf8')) as { alg?: string; kid?: string };
  } catch {
    throw new OidcError('malformed', 'the ID token is not a JWT');
  }
}

/** Registered and protocol claims: not user attributes, never mapped. */
const PROTOCOL_CLAIMS = new Set([
  'iss',
  'aud',
  'azp',
  'exp',
  'iat',
  'nbf',
  'auth_time',
  'nonce',
  'at_hash',
  'c_hash',
  's_hash',
  'acr',
  'amr',
  'sid',
  'jti',
  'typ',
  'session_state',
]);

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
      const value = source[key];
      // Entra's group overage: `_claim_names` names the claims left out of the token (their keys are kept, for the mapping to see).
      const values = key === '_claim_names' && value && typeof value === 'object' && !Array.isArray(value) ? Object.keys(value) : toStrings(value);
      // An explicit empty list is a value (no groups), not an absent claim: it revokes what it names.
      if (values.length > 0 || Array.isArray(value)) Object.defineProperty(out, key, { value: values, enumerable: true, writable: true, configurable: true });
    }
  }
  return out;
}

function toStrings(value: unknown): string[] {
  const list = Array.isArray(value) ? value : [value];
  return list.flatMap((v) => (typeof v === 'string' ? [v] : typeof v === 'number' || typeof v === 'boolean' ? [String(v)] : []));
}
