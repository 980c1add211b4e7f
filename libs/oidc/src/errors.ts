/** Why an OIDC login was refused; `code` is stable (the login trace and error pages use it). */
export type OidcErrorCode =
  | 'state'
  | 'nonce'
  | 'signature'
  | 'algorithm'
  | 'unknown_key'
  | 'issuer'
  | 'audience'
  | 'expired'
  | 'issued_in_future'
  | 'too_old'
  | 'missing_claim'
  | 'code_rejected'
  | 'idp_error'
  | 'userinfo'
  | 'subject_mismatch'
  | 'discovery'
  | 'jwks_unavailable'
  | 'malformed';

export class OidcError extends Error {
  /** The JOSE header of the ID token refused, when one was received (the login trace keeps it; never the signature). */
  idTokenHeader?: Record<string, unknown>;

  constructor(
    readonly code: OidcErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'OidcError';
  }
}

interface EngineError {
  code?: string;
  error?: string;
  error_description?: string;
  cause?: unknown;
}

/** Maps openid-client / oauth4webapi errors onto our codes, keeping their message. */
export function classifyOidcError(err: unknown): OidcError {
  if (err instanceof OidcError) return err;
  // openid-client wraps oauth4webapi's error (which names the claim) in a general one.
  let inner = err as EngineError & Error;
  while (inner?.cause instanceof Error && (inner.cause as EngineError).code?.startsWith('OAUTH_')) inner = inner.cause as EngineError & Error;
  const e = (inner ?? {}) as EngineError;
  const message = inner instanceof Error ? inner.message : String(err);
  const claim = (e.cause as { claim?: string } | undefined)?.claim;
  // The IdP answered with an OAuth error (on the redirect, or from the token endpoint).
  if (e.error) {
    const detail = `${e.error}${e.error_description ? `: ${e.error_description}` : ''}`;
    return new OidcError(e.error === 'invalid_grant' ? 'code_rejected' : 'idp_error', `the identity provider answered ${detail}`);
  }
  // A claim the token must carry is absent: not a mismatch, not an expiry.
  const missing = /JWT "(\w+)".* claim missing/.exec(message);
  if (missing) return new OidcError(missing[1] === 'nonce' ? 'nonce' : 'missing_claim', `the ID token has no "${missing[1]}" claim`);
  switch (e.code) {
    case 'OAUTH_JWS_SIGNATURE_VERIFICATION_FAILED':
      return new OidcError('signature', `the ID token signature is invalid (${message})`);
    case 'OAUTH_KEY_SELECTION_FAILED':
      return new OidcError('unknown_key', `no key of the identity provider's JWKS verifies the ID token (${message})`);
    case 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED':
      return new OidcError('expired', message);
    case 'OAUTH_JWT_CLAIM_COMPARISON_FAILED':
      if (claim === 'iss') return new OidcError('issuer', message);
      if (claim === 'aud' || claim === 'azp') return new OidcError('audience', message);
      if (claim === 'nonce') return new OidcError('nonce', message);
      if (claim === 'sub') return new OidcError('subject_mismatch', message);
      return new OidcError('malformed', message);
  }
  if (/signature/i.test(message)) return new OidcError('signature', `the ID token signature is invalid (${message})`);
  if (/"state"/.test(message)) return new OidcError('state', message);
  if (/"nonce"/.test(message)) return new OidcError('nonce', message);
  if (/"alg"|JWS algorithm|unsupported JWS/i.test(message)) return new OidcError('algorithm', message);
  if (/"iss"|issuer/i.test(message)) return new OidcError('issuer', message);
  if (/"aud"|"azp"|audience/i.test(message)) return new OidcError('audience', message);
  if (/"exp"|"iat"|"nbf"|expired/i.test(message)) return new OidcError('expired', message);
  if (/"sub"/.test(message)) return new OidcError('subject_mismatch', message);
  return new OidcError('malformed', message);
}
