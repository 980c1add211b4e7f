import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { OidcError } from './errors';
import { LogoutTokenVerifier } from './logout-token';

/** The JWKS is fetched through the fetch given to the verifier: here one that answers as an unreachable or broken IdP would. */
describe('LogoutTokenVerifier when the JWKS cannot be read', () => {
  const expectations = { issuer: 'https://idp.example.com', clientId: 'bridgekeeper', algorithm: 'RS256', clockSkewMs: 30_000 };
  let token: string;

  beforeAll(async () => {
    const { privateKey } = await generateKeyPair('RS256');
    token = await new SignJWT({ sub: 'sub-ulla', jti: 'j1', events: { 'http://schemas.openid.net/event/backchannel-logout': {} } })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1', typ: 'logout+jwt' })
      .setIssuer(expectations.issuer)
      .setAudience(expectations.clientId)
      .setIssuedAt()
      .sign(privateKey);
  });

  const codeOf = async (fetchImpl: typeof fetch) => {
    const err = await new LogoutTokenVerifier('https://idp.example.com/jwks', expectations, fetchImpl).verify(token).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OidcError);
    return (err as OidcError).code;
  };

  it('is jwks_unavailable (not a refused token) when the fetch fails, the IdP answers 5xx, or sends no JWKS', async () => {
    expect(await codeOf(() => Promise.reject(new TypeError('fetch failed')))).toBe('jwks_unavailable');
    expect(await codeOf(async () => new Response('down', { status: 503 }))).toBe('jwks_unavailable');
    expect(await codeOf(async () => new Response('<html>', { status: 200, headers: { 'content-type': 'application/json' } }))).toBe('jwks_unavailable');
    expect(await codeOf(async () => Response.json({ not: 'a jwks' }))).toBe('jwks_unavailable');
  });

  it('is a refusal as before when the JWKS is read and no key of it verifies the token', async () => {
    const { publicKey } = await generateKeyPair('RS256', { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' };
    expect(await codeOf(async () => Response.json({ keys: [jwk] }))).toBe('signature');
    expect(await codeOf(async () => Response.json({ keys: [] }))).toBe('unknown_key');
  });
});
