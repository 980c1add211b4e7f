import { acceptedAlgorithms, checkIdToken, claimsToAttributes, classifyOidcError, discoveryUrl, jwtHeader, OidcError, parseDiscovery } from './index';

describe('libs/oidc pure checks', () => {
  const issuer = 'https://kc.example.com/realms/corp';
  const doc = {
    issuer,
    authorization_endpoint: `${issuer}/auth`,
    token_endpoint: `${issuer}/token`,
    jwks_uri: `${issuer}/certs`,
    code_challenge_methods_supported: ['plain', 'S256'],
  };

  it('accepts a discovery document for the issuer asked for, and nothing else', () => {
    expect(discoveryUrl(`${issuer}/`)).toBe(`${issuer}/.well-known/openid-configuration`);
    expect(parseDiscovery(JSON.stringify(doc), issuer).token_endpoint).toBe(`${issuer}/token`);
    expect(() => parseDiscovery(JSON.stringify({ ...doc, issuer: 'https://evil.example.com' }), issuer)).toThrow(/names issuer https:\/\/evil/);
    expect(() => parseDiscovery(JSON.stringify({ ...doc, jwks_uri: undefined }), issuer)).toThrow(/jwks_uri/);
    expect(() => parseDiscovery(JSON.stringify({ ...doc, code_challenge_methods_supported: ['plain'] }), issuer)).toThrow(/PKCE/);
    expect(() => parseDiscovery('<html>', issuer)).toThrow(/not JSON/);
  });

  it('refuses an ID token with another algorithm or issued in the future', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const iat = now.getTime() / 1000;
    expect(() => checkIdToken({ alg: 'RS256' }, { iat }, { algorithm: 'RS256', clockSkewMs: 30_000, now })).not.toThrow();
    expect(() => checkIdToken({ alg: 'RS256' }, { iat: iat + 20 }, { algorithm: 'RS256', clockSkewMs: 30_000, now })).not.toThrow();
    expect(() => checkIdToken({ alg: 'RS256' }, { iat: iat + 60 }, { algorithm: 'RS256', clockSkewMs: 30_000, now })).toThrow(
      expect.objectContaining({ code: 'issued_in_future' }),
    );
    expect(() => checkIdToken({ alg: 'HS256' }, { iat }, { algorithm: 'RS256', clockSkewMs: 30_000, now })).toThrow(
      expect.objectContaining({ code: 'algorithm' }),
    );
    expect(() => checkIdToken({ alg: 'RS256' }, {}, { algorithm: 'RS256', clockSkewMs: 30_000, now })).toThrow(
      expect.objectContaining({ code: 'missing_claim' }),
    );
    expect(jwtHeader(`${Buffer.from('{"alg":"RS256","kid":"k1"}').toString('base64url')}.e30.sig`)).toEqual({ alg: 'RS256', kid: 'k1' });
  });

  it('names the algorithm received and the setting to change; takes EdDSA and Ed25519 (RFC 9864) as one', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const iat = now.getTime() / 1000;
    const refused = () => checkIdToken({ alg: 'ES256' }, { iat }, { algorithm: 'RS256', clockSkewMs: 30_000, now, idpId: 'corp' });
    expect(refused).toThrow(
      expect.objectContaining({
        code: 'algorithm',
        message: expect.stringMatching(
          /signed with ES256, but this IdP is configured for RS256: .*set the IdP's oidc.idTokenAlgorithm \(PATCH \/api\/v1\/idps\/corp\) to ES256/,
        ),
      }),
    );
    expect(() => checkIdToken({ alg: 'none' }, { iat }, { algorithm: 'RS256', clockSkewMs: 30_000, now })).toThrow(
      expect.objectContaining({ message: expect.stringContaining('none is not an algorithm Bridgekeeper accepts') }),
    );
    for (const [configured, alg] of [
      ['EdDSA', 'Ed25519'],
      ['Ed25519', 'EdDSA'],
      ['Ed25519', 'Ed25519'],
    ]) {
      expect(() => checkIdToken({ alg }, { iat }, { algorithm: configured, clockSkewMs: 30_000, now })).not.toThrow();
    }
    expect(acceptedAlgorithms('RS256')).toEqual(['RS256']);
    expect(() => checkIdToken({ alg: 'Ed25519' }, { iat }, { algorithm: 'ES256', clockSkewMs: 30_000, now })).toThrow(
      expect.objectContaining({ code: 'algorithm' }),
    );
  });

  it('refuses an ID token older than the maximum age (past the clock skew), with its own reason', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const iat = now.getTime() / 1000;
    const expect300 = { algorithm: 'RS256', clockSkewMs: 30_000, maxAgeMs: 300_000, now };
    expect(() => checkIdToken({ alg: 'RS256' }, { iat: iat - 320 }, expect300)).not.toThrow();
    expect(() => checkIdToken({ alg: 'RS256' }, { iat: iat - 340 }, expect300)).toThrow(
      expect.objectContaining({ code: 'too_old', message: expect.stringContaining('340 s ago') }),
    );
  });

  it('names a missing claim as missing, not as a mismatch or an expiry', () => {
    for (const claim of ['sub', 'iat', 'exp']) {
      const engine = Object.assign(new Error(`JWT "${claim}" claim missing`), { code: 'OAUTH_INVALID_RESPONSE', cause: { claim } });
      expect(classifyOidcError(Object.assign(new Error('unexpected response'), { cause: engine }))).toMatchObject({
        code: 'missing_claim',
        message: expect.stringContaining(claim),
      });
    }
  });

  it('merges userinfo over the ID token, as string lists, without protocol claims or prototype keys', () => {
    const id = { sub: 's1', iss: issuer, nonce: 'n', email: 'old@example.com', groups: ['/a', '/b'], email_verified: true };
    const userinfo = JSON.parse('{"sub":"s1","email":"new@example.com","__proto__":{"admin":["yes"]},"age":42}');
    const attributes = claimsToAttributes(id, userinfo);
    expect(attributes).toEqual({ email: ['new@example.com'], groups: ['/a', '/b'], email_verified: ['true'], age: ['42'] });
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    expect(() => claimsToAttributes(id, { sub: 's2' })).toThrow(expect.objectContaining({ code: 'subject_mismatch' }));
  });

  it('keeps an explicit empty claim as an empty value (it revokes), and the names an overage claim leaves out (attacker review)', () => {
    expect(claimsToAttributes({ sub: 's1', groups: [] })).toEqual({ groups: [] });
    expect(claimsToAttributes({ sub: 's1', groups: null })).toEqual({});
    expect(claimsToAttributes({ sub: 's1', _claim_names: { groups: 'src1' }, _claim_sources: { src1: { endpoint: 'https://graph' } } })).toEqual({
      _claim_names: ['groups'],
    });
  });

  it('names IdP errors: a rejected code, and others', () => {
    expect(classifyOidcError(Object.assign(new Error('x'), { error: 'invalid_grant', error_description: 'Code not valid' }))).toMatchObject({
      code: 'code_rejected',
      message: expect.stringContaining('Code not valid'),
    });
    expect(classifyOidcError(Object.assign(new Error('x'), { error: 'access_denied' }))).toMatchObject({ code: 'idp_error' });
    const wrapped = Object.assign(new Error('unexpected JWT claim value encountered'), {
      cause: Object.assign(new Error('unexpected JWT "iss" (issuer) claim value'), { code: 'OAUTH_JWT_CLAIM_COMPARISON_FAILED', cause: { claim: 'iss' } }),
    });
    expect(classifyOidcError(wrapped)).toMatchObject({ code: 'issuer' });
    expect(classifyOidcError(new OidcError('state', 's'))).toMatchObject({ code: 'state' });
  });
});
