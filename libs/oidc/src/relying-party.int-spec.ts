import { OidcTestIdp, startOidcIdp } from '@bridgekeeper/testing';
import { discoveryUrl, LogoutTokenVerifier, OidcError, OidcRelyingParty, parseDiscovery } from './index';

/**
 * The relying party against an OpenID Provider under the test's control (a real HTTP server on
 * 127.0.0.1): every refusal the issue lists, with its code.
 */
describe('OidcRelyingParty: passport + openid-client with the checks Bridgekeeper adds', () => {
  let idp: OidcTestIdp;
  let rp: OidcRelyingParty;

  const make = async (over: { idTokenAlgorithm?: string; userinfo?: boolean } = {}) =>
    new OidcRelyingParty({
      idpId: 'test-oidc',
      publicUrl: 'https://bk.example.com',
      discovery: parseDiscovery(await (await fetch(discoveryUrl(idp.issuer))).text(), idp.issuer),
      clientId: idp.clientId,
      clientSecret: idp.clientSecret,
      scopes: ['openid', 'email', 'profile'],
      idTokenAlgorithm: over.idTokenAlgorithm ?? 'RS256',
      userinfo: over.userinfo ?? true,
      clockSkewMs: 30_000,
      maxIdTokenAgeMs: 300_000,
      allowHttp: true,
    });

  beforeAll(async () => {
    idp = await startOidcIdp({
      clientId: 'bridgekeeper',
      clientSecret: 'test-secret-0123456789',
      users: [
        {
          sub: 'f3a1-alice',
          claims: { preferred_username: 'alice', email: 'alice@example.com', given_name: 'Alice', groups: ['/staff', '/engineering/backend'] },
        },
      ],
    });
    rp = await make();
  });
  afterAll(() => idp.stop());

  /** Starts a login, lets the test IdP answer, returns the callback query and the kept state. */
  async function roundTrip() {
    const { url, state } = await rp.authorizationRequest({ loginHint: 'alice@example.com' });
    const answer = await fetch(url, { redirect: 'manual' });
    const callback = new URL(answer.headers.get('location')!);
    expect(callback.href.startsWith(rp.urls.callback)).toBe(true);
    return { query: callback.searchParams.toString(), state };
  }

  async function refusal(over: typeof idp.next, party = rp): Promise<string> {
    idp.next = over;
    const { query, state } = await roundTrip();
    try {
      await party.callback(query, state);
    } catch (err) {
      if (err instanceof OidcError) return err.code;
      throw err;
    }
    throw new Error('the login was accepted');
  }

  it('sends PKCE S256, state and nonce, and returns the merged claims of a good login', async () => {
    const { query, state } = await roundTrip();
    const sent = idp.lastAuthorize!;
    expect(sent.get('code_challenge_method')).toBe('S256');
    expect(sent.get('state')).toBe(state.state);
    expect(sent.get('nonce')).toBe(state.nonce);
    expect(sent.get('login_hint')).toBe('alice@example.com');
    expect(sent.get('scope')).toBe('openid email profile');
    const login = await rp.callback(query, state);
    expect(login).toMatchObject({
      subject: 'f3a1-alice',
      sid: 'sid-f3a1-alice',
      attributes: { preferred_username: ['alice'], email: ['alice@example.com'], groups: ['/staff', '/engineering/backend'] },
    });
    expect(login.attributes).not.toHaveProperty('nonce');
    expect(login.idTokenView.header).toMatchObject({ alg: 'RS256' });
  });

  it('refuses a code used twice (the IdP says invalid_grant)', async () => {
    const { query, state } = await roundTrip();
    await rp.callback(query, state);
    await expect(rp.callback(query, state)).rejects.toMatchObject({ code: 'code_rejected' });
  });

  it.each<[string, typeof idp.next, string]>([
    ['a signature by another key under the same kid', { sign: 'foreign-key' }, 'signature'],
    ['an unknown kid', { sign: 'unknown-kid' }, 'unknown_key'],
    ['alg: none', { sign: 'none' }, 'algorithm'],
    ['HS256 signed with the client secret', { sign: 'hs256-client-secret' }, 'algorithm'],
    ['another issuer', { claims: { iss: 'https://evil.example.com' } }, 'issuer'],
    ['another audience', { claims: { aud: 'someone-else', azp: 'someone-else' } }, 'audience'],
    ['several audiences without azp', { claims: { aud: ['bridgekeeper', 'someone-else'], azp: undefined } }, 'audience'],
    ['an expired token', { claims: { exp: Math.floor(Date.now() / 1000) - 3600, iat: Math.floor(Date.now() / 1000) - 7200 } }, 'expired'],
    ['iat in the future', { claims: { iat: Math.floor(Date.now() / 1000) + 3600, exp: Math.floor(Date.now() / 1000) + 7200 } }, 'issued_in_future'],
    ['a wrong nonce', { claims: { nonce: 'not-the-one-sent' } }, 'nonce'],
    ['no nonce', { claims: { nonce: undefined } }, 'nonce'],
    ['a state other than the one sent', { state: 'forged-state' }, 'state'],
    ['userinfo about another subject', { userinfo: { sub: 'someone-else' } }, 'subject_mismatch'],
  ])('refuses %s', async (_case, over, code) => {
    expect(await refusal(over)).toBe(code);
  });

  /** The refusal itself (its code and the ID-token header it carries). */
  async function refusedError(over: typeof idp.next, party = rp): Promise<OidcError> {
    idp.next = over;
    const { query, state } = await roundTrip();
    const err = await party.callback(query, state).then(
      () => null,
      (e: unknown) => e,
    );
    if (!(err instanceof OidcError)) throw new Error(`not refused as an OidcError: ${String(err)}`);
    return err;
  }

  it("keeps a refused ID token's header, and only an ID token's (attacker review: a refused userinfo was traced as a refused ID token)", async () => {
    expect((await refusedError({ sign: 'hs256-client-secret' })).idTokenHeader).toMatchObject({ alg: 'HS256' });
    expect((await refusedError({ userinfo: { sub: 'someone-else' } })).idTokenHeader).toBeUndefined();
  });

  it('keeps the header when discovery spells the token endpoint otherwise than openid-client sends it (attacker review)', async () => {
    const discovery = parseDiscovery(await (await fetch(discoveryUrl(idp.issuer))).text(), idp.issuer);
    const shouted = new OidcRelyingParty({
      idpId: 'test-oidc',
      publicUrl: 'https://bk.example.com',
      discovery: { ...discovery, token_endpoint: discovery.token_endpoint!.replace('http://127.0.0.1', 'HTTP://127.0.0.1') },
      clientId: idp.clientId,
      clientSecret: idp.clientSecret,
      scopes: ['openid', 'email', 'profile'],
      idTokenAlgorithm: 'RS256',
      userinfo: true,
      clockSkewMs: 30_000,
      maxIdTokenAgeMs: 300_000,
      allowHttp: true,
    });
    const err = await refusedError({ sign: 'hs256-client-secret' }, shouted);
    expect(err.code).toBe('algorithm');
    expect(err.idTokenHeader).toMatchObject({ alg: 'HS256' });
  });

  it('fetches the JWKS once for many logins, and an unknown kid does not refetch it on every request', async () => {
    const fresh = await make();
    const before = idp.jwksFetches;
    for (let i = 0; i < 3; i++) {
      const { query, state } = await (async () => {
        const { url, state } = await fresh.authorizationRequest();
        const callback = new URL((await fetch(url, { redirect: 'manual' })).headers.get('location')!);
        return { query: callback.searchParams.toString(), state };
      })();
      await fresh.callback(query, state);
    }
    expect(idp.jwksFetches - before).toBe(1);
    for (let i = 0; i < 3; i++) expect(await refusal({ sign: 'unknown-kid' }, fresh)).toBe('unknown_key');
    expect(idp.jwksFetches - before).toBe(1);
  });

  it('builds the end-session URL with id_token_hint, the one fixed post-logout URI, and the state it is given', async () => {
    const url = new URL(rp.endSessionUrl('the.id.token', 'one-time-state')!);
    expect(url.origin + url.pathname).toBe(`${idp.issuer}/logout`);
    expect(url.searchParams.get('id_token_hint')).toBe('the.id.token');
    expect(url.searchParams.get('post_logout_redirect_uri')).toBe('https://bk.example.com/');
    expect(url.searchParams.get('state')).toBe('one-time-state');
    expect(new URL(rp.endSessionUrl(undefined)!).searchParams.has('state')).toBe(false);
  });

  describe('back-channel logout tokens', () => {
    let verifier: LogoutTokenVerifier;
    beforeAll(() => {
      verifier = new LogoutTokenVerifier(`${idp.issuer}/jwks`, { issuer: idp.issuer, clientId: idp.clientId, algorithm: 'RS256', clockSkewMs: 30_000 });
    });

    it('accepts a signed logout token naming sub and sid', async () => {
      expect(await verifier.verify(await idp.logoutToken({ sub: 'f3a1-alice', sid: 'sid-1' }))).toMatchObject({ sub: 'f3a1-alice', sid: 'sid-1' });
    });

    it.each<[string, Record<string, unknown>, (typeof idp.next)['sign'], string]>([
      ['signed by another key', { sub: 'x' }, 'foreign-key', 'signature'],
      ['alg none', { sub: 'x' }, 'none', 'algorithm'],
      ['for another client', { sub: 'x', aud: 'someone-else' }, 'idp', 'audience'],
      ['from another issuer', { sub: 'x', iss: 'https://evil.example.com' }, 'idp', 'issuer'],
      ['without the logout event', { sub: 'x', events: undefined }, 'idp', 'malformed'],
      ['carrying a nonce (an ID token)', { sub: 'x', nonce: 'n' }, 'idp', 'malformed'],
      ['naming nobody', { sub: undefined }, 'idp', 'malformed'],
    ])('refuses one %s', async (_case, claims, sign, code) => {
      await expect(verifier.verify(await idp.logoutToken(claims, sign))).rejects.toMatchObject({ code });
    });
  });
});
