import { Client } from 'pg';
import { createTestDatabase, freePort, startNats, startOidcProvider, TestBrowser, TestDatabase, TestNats, TestOidcProvider } from '@bridgekeeper/testing';
import { createAdminToken, Stack } from './support/stack';

/**
 * The whole stack (auth → NATS → provisioning → directory) against panva's oidc-provider, an
 * independent OpenID Certified OP started in-process (Keycloak's own run is
 * test/oidc-login.e2e-spec.ts): what an admin of another OP meets. An ID token signed with another
 * algorithm than configured names both and the setting, and the trace keeps its header; Ed25519
 * (RFC 9864) is accepted beside EdDSA; a subject that changed at the OP (pairwise switched on) is
 * said as such, with how to re-key; RP-initiated logout uses the one post-logout URI the IdP view
 * lists (an OP that matches URIs exactly accepts it) and carries returnTo in `state`.
 */
describe('OIDC login against oidc-provider (any OP, not only Keycloak)', () => {
  let nats: TestNats;
  let pg: TestDatabase;
  let stack: Stack;
  let op: TestOidcProvider;
  let sql: Client;
  let admin: string;
  let base: string;

  const SECRET = 'op-client-secret-0123456789abcdef';
  const ERIN = 'erin-account-7c1e';
  // Opaque subjects (what an OP's `sub` looks like): a user is never named by one.
  const ALICE = '5b0e9c31-alice-sub';
  const CAROL = 'a71f-opaque-0c2d9e';
  const MALLORY = 'd3c8-opaque-77ab10';
  const rows = async (query: string, params: unknown[] = []) => (await sql.query(query, params)).rows;
  const api = async (method: string, path: string, body?: unknown, service: 'auth' | 'directory' = 'auth') => {
    const res = await fetch(`${stack.services[service].url}${path}`, {
      method,
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json().catch(() => undefined) };
  };
  const addIdp = async (id: string, clientId: string, extra: Record<string, unknown> = {}) => {
    const created = await api('POST', '/api/v1/idps', {
      id,
      name: id,
      protocol: 'oidc',
      oidc: { issuer: op.issuer, clientId, clientSecret: SECRET, ...extra },
    });
    expect(created).toMatchObject({ status: 201 });
    return created.body;
  };

  /** /login → the OP (sign-in, consent) → /oidc/<idp>/callback, in one browser. */
  async function login(idp: string, account = ERIN, browser = new TestBrowser()) {
    op.account = account;
    const start = await browser.fetch(`${base}/login?idp=${idp}&returnTo=/session`);
    expect(start.status).toBe(302);
    const { url: callback } = await op.follow(browser, start.headers.get('location')!);
    expect(callback.pathname).toBe(`/oidc/${idp}/callback`);
    const res = await browser.fetch(callback);
    const html = res.status >= 400 ? await res.text() : '';
    return { res, html, browser, traceId: /id="trace-id">([0-9a-f-]{36})</.exec(html)?.[1] };
  }
  const traceOf = async (traceId: string | undefined) =>
    (await rows('SELECT status, reason_code, reason, response_message FROM auth.login_traces WHERE id = $1', [traceId]))[0];

  beforeAll(async () => {
    nats = await startNats();
    pg = await createTestDatabase();
    const ports = { auth: await freePort(), directory: await freePort(), provisioning: await freePort() };
    base = `http://localhost:${ports.auth}`;
    const client = (client_id: string, idps: string[], extra: Record<string, unknown> = {}) => ({
      client_id,
      client_secret: SECRET,
      redirect_uris: idps.map((idp) => `${base}/oidc/${idp}/callback`),
      // Exactly the one URI the IdP view tells the admin to register.
      post_logout_redirect_uris: [`${base}/`],
      ...extra,
    });
    op = await startOidcProvider({
      clients: [
        client('bk-rs256', ['op-rs']),
        client('bk-pairwise', ['op-rs'], { subject_type: 'pairwise' }),
        client('bk-es256', ['op-es'], { id_token_signed_response_alg: 'ES256' }),
        client('bk-ed25519', ['op-ed', 'op-eddsa'], { id_token_signed_response_alg: 'Ed25519' }),
        client('bk-logout', ['op-lo']),
        client('bk-ed-bcl', ['op-edb'], {
          id_token_signed_response_alg: 'Ed25519',
          backchannel_logout_uri: `${base}/oidc/op-edb/backchannel-logout`,
          backchannel_logout_session_required: true,
        }),
        client('bk-claims', ['op-bare', 'op-email', 'op-taken']),
      ],
      accounts: {
        [ERIN]: {
          claims: {
            preferred_username: 'erin',
            email: 'erin@example.com',
            email_verified: true,
            given_name: 'Erin',
            family_name: 'Ostrom',
            name: 'Erin Ostrom',
          },
        },
        ...Object.fromEntries(
          ['eve', 'eddie', 'edna', 'edgar', 'lou'].map((name) => [`${name}-account`, { claims: { preferred_username: name, email: `${name}@example.com` } }]),
        ),
        [ALICE]: {
          claims: {
            preferred_username: 'alice.k',
            email: 'alice.k@example.com',
            email_verified: true,
            given_name: 'Alice',
            family_name: 'Kramer',
            name: 'Alice Kramer',
            groups: ['/staff', '/engineering'],
          },
        },
        [CAROL]: { claims: { preferred_username: 'carol', email: 'Carol@Example.com', email_verified: true, name: 'Carol C' } },
        [MALLORY]: { claims: { preferred_username: 'mallory', email: 'mallory@example.com', email_verified: false } },
        'dora-account': { claims: { preferred_username: 'dora', email: 'shared@example.com', email_verified: true } },
        'ezra-account': { claims: { preferred_username: 'ezra', email: 'shared@example.com', email_verified: true } },
      },
    });
    stack = new Stack({ natsUrl: nats.url, databaseUrl: pg.url, ports });
    await stack.start();
    admin = createAdminToken({ DATABASE_URL: pg.url, DATA_DIR: stack.dataDir });
    sql = new Client({ connectionString: pg.url });
    await sql.connect();
  });

  afterAll(async () => {
    await sql?.end();
    await stack?.stop();
    await op?.stop();
    await pg?.drop();
    await nats?.stop();
  });

  it('signs Erin in through oidc-provider (RS256, public subject)', async () => {
    const view = await addIdp('op-rs', 'bk-rs256');
    expect(view).toMatchObject({ rp: { redirectUri: `${base}/oidc/op-rs/callback`, postLogoutRedirectUri: `${base}/` } });
    const { res } = await login('op-rs');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/session');
    expect(await rows('SELECT username, email, source, external_id FROM directory.users')).toEqual([
      { username: 'erin', email: 'erin@example.com', source: 'op-rs', external_id: ERIN },
    ]);
  });

  it('names the algorithm received and the setting to change when the ID token is signed otherwise, and keeps its header in the trace', async () => {
    await addIdp('op-es', 'bk-es256'); // RS256 by default; the OP signs this client's ID tokens with ES256
    const { res, html, traceId } = await login('op-es', 'eve-account');
    expect(res.status).toBe(400);
    expect(html).not.toContain('ES256'); // the person's page says nothing an attacker could use
    const trace = await traceOf(traceId);
    expect(trace).toMatchObject({ status: 'failed', reason_code: 'algorithm' });
    expect(trace.reason).toContain('signed with ES256');
    expect(trace.reason).toContain('RS256');
    expect(trace.reason).toContain('idTokenAlgorithm');
    const header = JSON.parse(trace.response_message).header;
    expect(header).toMatchObject({ alg: 'ES256', kid: expect.any(String) });
    expect(await rows(`SELECT id FROM directory.users WHERE source = 'op-es'`)).toHaveLength(0);

    // The advice works: the setting changed, the same OP signs the user in.
    expect((await api('PATCH', '/api/v1/idps/op-es', { oidc: { idTokenAlgorithm: 'ES256' } })).status).toBe(200);
    expect((await login('op-es', 'eve-account')).res.status).toBe(302);
  });

  it('accepts Ed25519 (RFC 9864) as the configured algorithm, and beside EdDSA', async () => {
    await addIdp('op-ed', 'bk-ed25519', { idTokenAlgorithm: 'Ed25519' });
    expect((await login('op-ed', 'eddie-account')).res.status).toBe(302);
    // EdDSA configured: an ID token the OP signs with the fully specified name is the same algorithm.
    await addIdp('op-eddsa', 'bk-ed25519', { idTokenAlgorithm: 'EdDSA' });
    const { res, traceId } = await login('op-eddsa', 'edna-account');
    expect({ status: res.status, trace: traceId && (await traceOf(traceId)).reason }).toEqual({ status: 302, trace: undefined });
  });

  it("ends the session on the OP's back-channel logout token signed with Ed25519, the IdP configured for EdDSA", async () => {
    await addIdp('op-edb', 'bk-ed-bcl', { idTokenAlgorithm: 'EdDSA' });
    const { res, browser } = await login('op-edb', 'edgar-account');
    expect(res.status).toBe(302);
    const session = async () => (await browser.fetch(`${base}/session`)).status;
    expect(await session()).toBe(200);
    // Signed out at the OP itself (not through Bridgekeeper): the OP posts its logout token to the client.
    const { res: done } = await op.follow(browser, `${op.issuer}/session/end`);
    expect(done.status).toBe(200);
    expect(await session()).toBe(401);
  });

  it('says the subject changed at the IdP (pairwise switched on) and how to re-key; re-keyed, the same account signs in', async () => {
    const [erin] = await rows(`SELECT id FROM directory.users WHERE source = 'op-rs'`);
    expect((await api('PATCH', '/api/v1/idps/op-rs', { oidc: { clientId: 'bk-pairwise', clientSecret: SECRET } })).status).toBe(200);
    const { res, traceId } = await login('op-rs');
    expect(res.status).toBe(403);
    const [step] = await rows(`SELECT subject FROM auth.login_traces WHERE id = $1`, [traceId]);
    const pairwiseSub = step.subject as string;
    expect(pairwiseSub).not.toBe(ERIN);
    const trace = await traceOf(traceId);
    expect(trace.reason).toContain('subject changed');
    expect(trace.reason).toContain(ERIN);
    expect(trace.reason).toContain(pairwiseSub);
    expect(trace.reason).toContain(`PATCH /api/v1/users/${erin.id}`);
    expect(await rows(`SELECT external_id FROM directory.users WHERE source = 'op-rs'`)).toEqual([{ external_id: ERIN }]);

    expect((await api('PATCH', `/api/v1/users/${erin.id}`, { externalId: pairwiseSub }, 'directory')).status).toBe(200);
    expect((await login('op-rs')).res.status).toBe(302);
    expect(await rows(`SELECT id, external_id FROM directory.users WHERE source = 'op-rs'`)).toEqual([{ id: erin.id, external_id: pairwiseSub }]);
  });

  it('logs out at an OP that matches post-logout URIs exactly: the one registered URI, returnTo carried in state', async () => {
    await addIdp('op-lo', 'bk-logout');
    const { res, browser } = await login('op-lo', 'lou-account');
    expect(res.status).toBe(302);
    expect(browser.cookie(op.issuer, '_session')).toBeDefined();
    const out = await browser.fetch(`${base}/logout?returnTo=/after`, { method: 'POST' });
    expect(out.status).toBe(303);
    const endSession = new URL(out.headers.get('location')!);
    expect(endSession.origin).toBe(op.issuer);
    // The OP accepts the URI (it answers "post_logout_redirect_uri not registered" otherwise) and sends the browser back.
    const { url: back } = await op.follow(browser, endSession);
    expect(`${back.origin}${back.pathname}`).toBe(`${base}/`);
    expect(endSession.searchParams.get('post_logout_redirect_uri')).toBe(`${base}/`);
    // state is a one-time value bound to this browser (a cookie), never the address itself.
    const state = endSession.searchParams.get('state')!;
    expect(state).toMatch(/^[A-Za-z0-9_-]{22,}$/);
    expect(browser.cookie(op.issuer, '_session')).toBeUndefined(); // signed out at the OP too
    // Another browser with the same link goes nowhere (attacker review: GET /?state= redirected anyone).
    const elsewhere = await fetch(back, { redirect: 'manual' });
    expect(elsewhere.status).toBe(200);
    const landed = await browser.fetch(back);
    expect(landed.status).toBe(303);
    expect(landed.headers.get('location')).toBe('/after');
    // Once only.
    expect((await browser.fetch(back)).status).toBe(200);
    // A crafted state is no redirect, to another site or here.
    for (const crafted of ['https://evil.example.com/', '/admin'])
      expect((await fetch(`${base}/?state=${encodeURIComponent(crafted)}`, { redirect: 'manual' })).status).toBe(200);
  });

  /**
   * Issue 27, the mapping part, through this OP as it ships (OIDC Core: claims asked for by scope
   * are released by userinfo only; the ID token carries `sub`). The rules are those of
   * test/absent-claims.int-spec.ts: an absent claim is not an empty value (a known user keeps
   * username, email and name, and the trace says what was absent), groups are authoritative (no
   * groups claim, no managed group), a new user without preferred_username is named by a verified
   * email and never by the opaque `sub`, and an email another account holds is said.
   */
  describe('absent claims, fallback usernames and taken emails (issue 27) against this OP', () => {
    const directory = (path: string) => api('GET', path, undefined, 'directory');
    /** The directory's user of `idp` keyed on `sub`, with their groups, through the admin API. */
    const userOf = async (idp: string, sub: string) => {
      const page = await directory(`/api/v1/users?source=${idp}&limit=100`);
      const found = (page.body.items as { id: string; externalId: string }[]).find((u) => u.externalId === sub);
      return found && (await directory(`/api/v1/users/${found.id}`)).body;
    };
    const groupNames = (user: { groups: { name: string }[] }) => user.groups.map((g) => g.name);
    /** The newest login trace of `idp` (a login that succeeded shows no trace id), with its steps. */
    const lastTrace = async (idp: string) => {
      const list = await api('GET', `/api/v1/login-traces?idp=${idp}&limit=1`);
      return (await api('GET', `/api/v1/login-traces/${list.body.items[0].id}`)).body;
    };
    const step = (trace: { steps: { step: string; detail?: string }[] }, name: string) => trace.steps.find((s) => s.step === name)?.detail ?? '';
    /** The fields the trace says the login did not carry (`claim_absent <field>: <reason>`). */
    const absentFields = (trace: { steps: { step: string; detail?: string }[] }) =>
      [...step(trace, 'provisioning.claims-absent').matchAll(/claim_absent (\w+):/g)].map((m) => m[1]);

    it('an ID token with only sub (userinfo off) keeps the username, email and name, says what was absent, and leaves no managed group', async () => {
      await addIdp('op-bare', 'bk-claims', { scopes: ['openid', 'email', 'profile', 'groups'] });
      expect((await login('op-bare', ALICE)).res.status).toBe(302);
      const before = await userOf('op-bare', ALICE);
      expect(before).toMatchObject({ username: 'alice.k', email: 'alice.k@example.com', displayName: 'Alice Kramer' });
      expect(groupNames(before)).toEqual(['engineering', 'staff']);

      expect((await api('PATCH', '/api/v1/idps/op-bare', { oidc: { userinfo: false } })).status).toBe(200);
      const { res, browser } = await login('op-bare', ALICE);
      expect(res.status).toBe(302);
      const after = await userOf('op-bare', ALICE);
      expect(after).toMatchObject({ id: before.id, username: 'alice.k', email: 'alice.k@example.com', displayName: 'Alice Kramer', externalId: ALICE });
      expect(groupNames(after)).toEqual([]);
      expect((await directory(`/api/v1/users?q=${ALICE}`)).body.items).toEqual([]); // nobody renamed to the opaque sub
      expect((await (await browser.fetch(`${base}/session`)).json()).user).toMatchObject({ username: 'alice.k', email: 'alice.k@example.com' });

      const trace = await lastTrace('op-bare');
      expect(trace).toMatchObject({ status: 'succeeded', subject: ALICE, attributes: {} });
      // What the OP sent: an ID token with `sub` and protocol claims, no profile claim (they were the userinfo's).
      const idToken = JSON.parse(trace.messages.response).claims;
      expect(idToken.sub).toBe(ALICE);
      for (const claim of ['preferred_username', 'email', 'email_verified', 'name', 'given_name', 'family_name', 'groups'])
        expect(idToken).not.toHaveProperty(claim);
      // The trace says what was absent; not the groups, which are authoritative.
      expect(absentFields(trace)).toEqual(['username', 'email', 'displayName']);

      // userinfo on again: the full login applies as usual, the groups come back.
      expect((await api('PATCH', '/api/v1/idps/op-bare', { oidc: { userinfo: true } })).status).toBe(200);
      expect((await login('op-bare', ALICE)).res.status).toBe(302);
      expect(groupNames(await userOf('op-bare', ALICE))).toEqual(['engineering', 'staff']);
      expect(absentFields(await lastTrace('op-bare'))).toEqual([]);
    });

    it('names a new user by the verified email when the OP releases no preferred_username (scope openid email), never by the sub; an unverified email is refused with the reason', async () => {
      await addIdp('op-email', 'bk-claims', { scopes: ['openid', 'email'] });
      expect((await login('op-email', CAROL)).res.status).toBe(302);
      expect(await userOf('op-email', CAROL)).toMatchObject({
        username: 'carol@example.com',
        email: 'carol@example.com',
        displayName: null,
        externalId: CAROL,
      });
      expect((await directory(`/api/v1/users?q=${CAROL}`)).body.items).toEqual([]);
      const named = await lastTrace('op-email');
      expect(named.attributes).toEqual({ email: ['Carol@Example.com'], email_verified: ['true'] });
      expect(absentFields(named)).toEqual(['username', 'displayName']);
      expect(step(named, 'provisioning.claims-absent')).toContain('a new one is named carol@example.com (fallback)');

      // An unverified email is anyone's to type: it names nobody, and the admin is told what to send.
      const refused = await login('op-email', MALLORY);
      expect(refused.res.status).toBe(403);
      expect(refused.html).not.toContain('preferred_username');
      expect(await traceOf(refused.traceId)).toMatchObject({
        status: 'failed',
        reason_code: 'no_username',
        reason: expect.stringMatching(/preferred_username[\s\S]*not email_verified true, and an unverified email names nobody/),
      });
      expect(await userOf('op-email', MALLORY)).toBeUndefined();
      expect((await directory(`/api/v1/users?q=${MALLORY}`)).body.items).toEqual([]);
    });

    it('an email another account holds: the login succeeds, the email is not stored, and the trace names the account that holds it', async () => {
      await addIdp('op-taken', 'bk-claims');
      expect((await login('op-taken', 'dora-account')).res.status).toBe(302);
      const { res } = await login('op-taken', 'ezra-account');
      expect(res.status).toBe(302);
      expect(await userOf('op-taken', 'ezra-account')).toMatchObject({ username: 'ezra', email: null });
      expect(await userOf('op-taken', 'dora-account')).toMatchObject({ username: 'dora', email: 'shared@example.com' });
      const trace = await lastTrace('op-taken');
      expect(trace).toMatchObject({ status: 'succeeded', attributes: expect.objectContaining({ email: ['shared@example.com'] }) });
      expect(step(trace, 'provisioning.refused')).toMatch(/email_taken shared@example\.com: .*dora/);
    });
  });
});
