import { Client } from 'pg';
import { createTestDatabase, freePort, OidcScenario, OidcTestIdp, startNats, startOidcIdp, TestBrowser, TestDatabase, TestNats } from '@bridgekeeper/testing';
import { createAdminToken, Stack } from './support/stack';

/**
 * OIDC login over HTTP, the whole stack (auth → NATS → provisioning → directory), against an
 * OpenID Provider under the test's control: a good login provisions the user and her groups from
 * the token; each bad answer is refused with its reason in the login trace and nothing written to
 * the directory; back-channel logout ends the session. (Keycloak itself: test/oidc-login.e2e-spec.ts.)
 */
describe('OIDC login (test IdP, no browser)', () => {
  let nats: TestNats;
  let pg: TestDatabase;
  let stack: Stack;
  let idp: OidcTestIdp;
  let sql: Client;
  let admin: string;
  let base: string;

  const rows = async (query: string, params: unknown[] = []) => (await sql.query(query, params)).rows;
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json().catch(() => undefined) };
  };

  /** /login → the IdP's authorize → /oidc/test-oidc/callback, following redirects by hand. */
  async function login(scenario: OidcScenario = {}, tamperCallback?: (url: URL) => void) {
    idp.next = scenario;
    const browser = new TestBrowser();
    const start = await browser.fetch(`${base}/login?idp=test-oidc&returnTo=/session`);
    expect(start.status).toBe(302);
    const authorize = new URL(start.headers.get('location')!);
    expect(authorize.origin).toBe(idp.issuer);
    const back = await fetch(authorize, { redirect: 'manual' });
    const callback = new URL(back.headers.get('location')!);
    tamperCallback?.(callback);
    const res = await browser.fetch(callback);
    const html = res.status >= 400 ? await res.text() : '';
    return {
      res,
      callback,
      browser,
      cookie: res.headers
        .getSetCookie()
        .find((c) => c.startsWith('bk_session='))
        ?.split(';')[0],
      traceId: /id="trace-id">([0-9a-f-]{36})</.exec(html)?.[1],
    };
  }

  beforeAll(async () => {
    nats = await startNats();
    pg = await createTestDatabase();
    idp = await startOidcIdp({
      clientId: 'bridgekeeper',
      clientSecret: 'int-test-secret-0123456789',
      users: [
        {
          sub: '7c1e-erin',
          claims: {
            preferred_username: 'Erin',
            email: 'erin@example.com',
            given_name: 'Erin',
            family_name: 'Ostrom',
            name: 'Erin Ostrom',
            roles: ['/engineering/backend', '/staff'],
          },
        },
      ],
    });
    const ports = { auth: await freePort(), directory: await freePort(), provisioning: await freePort() };
    base = `http://localhost:${ports.auth}`;
    stack = new Stack({ natsUrl: nats.url, databaseUrl: pg.url, ports });
    await stack.start();
    admin = createAdminToken({ DATABASE_URL: pg.url, DATA_DIR: stack.dataDir });
    sql = new Client({ connectionString: pg.url });
    await sql.connect();
  });

  afterAll(async () => {
    await sql?.end();
    await stack?.stop();
    await idp?.stop();
    await pg?.drop();
    await nats?.stop();
  });

  it('adds an OIDC IdP through the admin API: discovery read, the secret sealed and never returned, audited', async () => {
    const created = await api('POST', '/api/v1/idps', {
      id: 'test-oidc',
      name: 'Test OIDC',
      protocol: 'oidc',
      oidc: { issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, groupsClaim: 'roles' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      protocol: 'oidc',
      oidc: {
        issuer: idp.issuer,
        clientId: 'bridgekeeper',
        clientSecret: '(set)',
        scopes: ['openid', 'email', 'profile'],
        groupsClaim: 'roles',
        idTokenAlgorithm: 'RS256',
        endpoints: { token: `${idp.issuer}/token` },
      },
      rp: { redirectUri: `${base}/oidc/test-oidc/callback`, backchannelLogoutUrl: `${base}/oidc/test-oidc/backchannel-logout` },
    });
    expect(JSON.stringify(created.body)).not.toContain(idp.clientSecret);
    const [row] = await rows(`SELECT client_secret_enc FROM auth.idps WHERE id = 'test-oidc'`);
    expect(row.client_secret_enc).toMatch(/^v1\./);
    expect(row.client_secret_enc).not.toContain(idp.clientSecret);
    const audit = await rows(`SELECT after FROM auth.audit_log WHERE target_id = 'test-oidc'`);
    expect(JSON.stringify(audit)).not.toContain(idp.clientSecret);

    expect(
      (
        await api('POST', '/api/v1/idps', {
          id: 'bad-oidc',
          name: 'x',
          protocol: 'oidc',
          oidc: { issuer: 'http://127.0.0.1:1/nowhere', clientId: 'x', clientSecret: 'y' },
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await api('POST', '/api/v1/idps', {
          id: 'mixed',
          name: 'x',
          protocol: 'oidc',
          metadataUrl: idp.issuer,
          oidc: { issuer: idp.issuer, clientId: 'x', clientSecret: 'y' },
        })
      ).status,
    ).toBe(400);
    expect((await api('PATCH', '/api/v1/idps/test-oidc', { binding: 'HTTP-POST' })).status).toBe(400);
  });

  it('signs Erin in: JIT provisioning of her groups from the token, the same user on the next login', async () => {
    const { res, cookie } = await login();
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/session');
    const session = await (await fetch(`${base}/session`, { headers: { cookie: cookie! } })).json();
    expect(session).toMatchObject({
      user: { username: 'erin', email: 'erin@example.com', displayName: 'Erin Ostrom' },
      groups: ['engineering/backend', 'staff'],
      idp: 'test-oidc',
    });
    expect(await rows('SELECT source, external_id FROM directory.users WHERE username_lower = $1', ['erin'])).toEqual([
      { source: 'test-oidc', external_id: '7c1e-erin' },
    ]);
    const [trace] = await rows(`SELECT status, subject, response_message FROM auth.login_traces WHERE idp = 'test-oidc' AND status = 'succeeded'`);
    expect(trace.subject).toBe('7c1e-erin');
    expect(JSON.parse(trace.response_message)).toMatchObject({ header: { alg: 'RS256' }, claims: { sub: '7c1e-erin', iss: idp.issuer } });

    const again = await login();
    expect(again.res.status).toBe(302);
    expect(await rows('SELECT id FROM directory.users WHERE username_lower = $1', ['erin'])).toHaveLength(1);
  });

  it('an ID token with only sub (userinfo off) signs Erin in as the directory holds her: no rename to the sub, no profile wipe, no group kept, the trace says what was absent (issue 27)', async () => {
    expect((await api('PATCH', '/api/v1/idps/test-oidc', { oidc: { userinfo: false } })).status).toBe(200);
    try {
      const bare = { preferred_username: undefined, email: undefined, given_name: undefined, family_name: undefined, name: undefined, roles: undefined };
      const { res, cookie } = await login({ claims: bare });
      expect(res.status).toBe(302);
      const session = await (await fetch(`${base}/session`, { headers: { cookie: cookie! } })).json();
      // The profile is kept; the groups are authoritative (a login without them revokes them).
      expect(session).toMatchObject({ user: { username: 'erin', email: 'erin@example.com', displayName: 'Erin Ostrom' }, groups: [] });
      const [trace] = await rows(`SELECT id FROM auth.login_traces WHERE idp = 'test-oidc' AND status = 'succeeded' ORDER BY started_at DESC LIMIT 1`);
      const steps = await rows('SELECT step, detail FROM auth.login_trace_steps WHERE trace_id = $1', [trace.id]);
      const absent = steps.find((st) => st.step === 'provisioning.claims-absent')?.detail;
      expect(absent).toEqual(expect.stringContaining('claim_absent email: the login carries none of email'));
      expect(absent).not.toEqual(expect.stringContaining('claim_absent groups'));

      // Someone new with only a sub is refused, and the page says nothing of why; the trace does.
      idp.user = { sub: '0d9a-nobody', claims: {} };
      const refused = await login();
      expect(refused.res.status).toBe(403);
      const [why] = await rows('SELECT reason_code, reason FROM auth.login_traces WHERE id = $1', [refused.traceId]);
      expect(why).toMatchObject({ reason_code: 'no_username', reason: expect.stringContaining('userinfo') });
      expect(await rows(`SELECT id FROM directory.users WHERE external_id = '0d9a-nobody'`)).toEqual([]);

      // An address another account holds is said in the trace, not dropped silently.
      expect((await api('PATCH', '/api/v1/idps/test-oidc', { oidc: { userinfo: true } })).status).toBe(200);
      idp.user = { sub: '5b2f-frank', claims: { preferred_username: 'frank', email: 'erin@example.com' } };
      const frank = await login();
      expect(frank.res.status).toBe(302);
      const [ft] = await rows(`SELECT id FROM auth.login_traces WHERE idp = 'test-oidc' AND subject = '5b2f-frank' AND status = 'succeeded'`);
      const fsteps = await rows('SELECT step, detail FROM auth.login_trace_steps WHERE trace_id = $1', [ft.id]);
      expect(fsteps.find((st) => st.step === 'provisioning.refused')?.detail).toEqual(
        expect.stringContaining('email_taken erin@example.com: not stored: the account erin holds this address'),
      );
    } finally {
      idp.user = {
        sub: '7c1e-erin',
        claims: {
          preferred_username: 'Erin',
          email: 'erin@example.com',
          given_name: 'Erin',
          family_name: 'Ostrom',
          name: 'Erin Ostrom',
          roles: ['/engineering/backend', '/staff'],
        },
      };
      await api('PATCH', '/api/v1/idps/test-oidc', { oidc: { userinfo: true } });
    }
  });

  it.each<[string, OidcScenario, string]>([
    ['a bad signature', { sign: 'foreign-key' }, 'signature'],
    ['alg: none', { sign: 'none' }, 'algorithm'],
    ['an unknown kid', { sign: 'unknown-kid' }, 'unknown_key'],
    ['a wrong issuer', { claims: { iss: 'https://evil.example.com' } }, 'issuer'],
    ['a wrong audience', { claims: { aud: 'another-app', azp: 'another-app' } }, 'audience'],
    ['an expired token', { claims: { exp: Math.floor(Date.now() / 1000) - 600, iat: Math.floor(Date.now() / 1000) - 900 } }, 'expired'],
    ['iat in the future', { claims: { iat: Math.floor(Date.now() / 1000) + 3600, exp: Math.floor(Date.now() / 1000) + 7200 } }, 'issued_in_future'],
    ['a wrong nonce', { claims: { nonce: 'replayed-nonce' } }, 'nonce'],
    ['a missing nonce', { claims: { nonce: undefined } }, 'nonce'],
    ['a userinfo sub that differs', { userinfo: { sub: 'someone-else' } }, 'subject_mismatch'],
    ['a missing sub', { claims: { sub: undefined } }, 'missing_claim'],
    ['a missing iat', { claims: { iat: undefined } }, 'missing_claim'],
    ['an ID token issued an hour ago', { claims: { iat: Math.floor(Date.now() / 1000) - 3600, exp: Math.floor(Date.now() / 1000) + 600 } }, 'too_old'],
  ])('refuses %s with the reason in the trace and writes nothing', async (_case, scenario, code) => {
    const { res, traceId } = await login({ ...scenario, claims: { preferred_username: `mallory-${code}`, ...scenario.claims } });
    expect(res.status).toBe(400);
    const [trace] = await rows('SELECT status, reason_code, reason FROM auth.login_traces WHERE id = $1', [traceId]);
    expect(trace).toMatchObject({ status: 'failed', reason_code: code });
    expect(await rows(`SELECT id FROM directory.users WHERE username_lower LIKE 'mallory%'`)).toHaveLength(0);
  });

  it('refuses a state that matches no login, and a callback replayed after its login finished', async () => {
    const forged = await login({}, (url) => url.searchParams.set('state', 'forged'));
    expect(forged.res.status).toBe(400);
    expect((await rows('SELECT reason_code FROM auth.login_traces WHERE id = $1', [forged.traceId]))[0].reason_code).toBe('state');

    const { res, callback, browser } = await login();
    expect(res.status).toBe(302);
    const replay = await browser.fetch(callback);
    expect(replay.status).toBe(400);
    const replayTrace = /id="trace-id">([0-9a-f-]{36})</.exec(await replay.text())![1];
    expect((await rows('SELECT reason_code, reason FROM auth.login_traces WHERE id = $1', [replayTrace]))[0]).toMatchObject({
      reason_code: 'state',
      reason: expect.stringContaining('already used'),
    });
  });

  it('refuses a code used twice even with a fresh state (the IdP says invalid_grant)', async () => {
    const first = await login();
    const code = first.callback.searchParams.get('code')!;
    const second = await login({}, (url) => url.searchParams.set('code', code));
    expect(second.res.status).toBe(400);
    expect((await rows('SELECT reason_code FROM auth.login_traces WHERE id = $1', [second.traceId]))[0].reason_code).toBe('code_rejected');
  });

  it('ends the session on a signed back-channel logout token, once; refuses forged ones', async () => {
    const { cookie } = await login();
    const sessionOk = async () => (await fetch(`${base}/session`, { headers: { cookie: cookie! } })).status;
    expect(await sessionOk()).toBe(200);
    const post = (token: string) =>
      fetch(`${base}/oidc/test-oidc/backchannel-logout`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ logout_token: token }),
      });

    const forged = await post(await idp.logoutToken({ sub: '7c1e-erin', sid: 'sid-7c1e-erin' }, 'foreign-key'));
    expect(forged.status).toBe(400);
    // The caller learns only that the token was refused; why is in auth's log.
    expect(await forged.json()).toEqual({ error: 'invalid_request', error_description: 'the logout token was refused' });
    expect(await sessionOk()).toBe(200);

    const token = await idp.logoutToken({ sub: '7c1e-erin', sid: 'sid-7c1e-erin' });
    const ok = await post(token);
    expect(ok.status).toBe(200);
    expect((await ok.json()).ended).toBeGreaterThanOrEqual(1);
    expect(await sessionOk()).toBe(401);
    expect((await post(token)).status).toBe(400); // the same token twice
  });

  it('logs out at the IdP too (RP-initiated, id_token_hint)', async () => {
    const { cookie } = await login();
    const res = await fetch(`${base}/logout?returnTo=/after`, { method: 'POST', headers: { cookie: cookie! }, redirect: 'manual' });
    expect(res.status).toBe(303);
    const to = new URL(res.headers.get('location')!);
    expect(`${to.origin}${to.pathname}`).toBe(`${idp.issuer}/logout`);
    expect(to.searchParams.get('id_token_hint')).toMatch(/^eyJ/);
    expect(to.searchParams.get('post_logout_redirect_uri')).toBe(`${base}/`);
    // returnTo stays here, bound to this browser; the IdP carries a one-time value (test/oidc-any-op.int-spec.ts follows it back).
    expect(to.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect((await fetch(`${base}/session`, { headers: { cookie: cookie! } })).status).toBe(401);
  });
});
