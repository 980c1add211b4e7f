import { inflateRawSync } from 'node:zlib';
import { Client } from 'pg';
import { generateSigningKeyPair } from '@bridgekeeper/saml';
import {
  buildLogoutRequestQuery,
  buildSignedResponse,
  createTestDatabase,
  freePort,
  OidcTestIdp,
  startNats,
  startOidcIdp,
  TestBrowser,
  TestDatabase,
  TestIdpKeys,
  TestNats,
  toBase64,
} from '@bridgekeeper/testing';
import { createAdminToken, Stack } from './support/stack';

/**
 * What an attacker on the outside tries against a login, on the whole stack over real NATS and
 * PostgreSQL, with browsers the test drives (each TestBrowser keeps its own cookies):
 * - login CSRF / session swap: the attacker's own SAML response or OIDC callback delivered to a
 *   victim's browser is refused, and spoils nothing for the browser that started the login;
 * - logout CSRF: an IdP LogoutRequest ends only the sessions it names, clears only the cookie of a
 *   browser whose session it ended, and is honoured once and only while fresh;
 * - error pages tell a visitor nothing but plain words and the trace id;
 * - offboarding: a user disabled or deleted in the directory loses every session within seconds,
 *   and admins can list and end a user's sessions (audited).
 */
describe('login security (the running stack)', () => {
  const IDP = 'https://idp.example.com/realms/test';
  let nats: TestNats;
  let pg: TestDatabase;
  let stack: Stack;
  let sql: Client;
  let keys: TestIdpKeys;
  let oidc: OidcTestIdp;
  let base: string;
  let admin: string;
  let readOnly: string;
  let directory: string;
  const rows = async (query: string, params: unknown[] = []) => (await sql.query(query, params)).rows;

  beforeAll(async () => {
    nats = await startNats();
    pg = await createTestDatabase();
    const ports = { auth: await freePort(), directory: await freePort(), provisioning: await freePort() };
    stack = new Stack({ natsUrl: nats.url, databaseUrl: pg.url, ports });
    await stack.start();
    base = `http://localhost:${ports.auth}`; // auth's public URL: the SP's entity id, ACS and SLO are made of it
    directory = stack.services.directory.url;
    keys = await generateSigningKeyPair('test idp');
    oidc = await startOidcIdp({
      clientId: 'bridgekeeper',
      clientSecret: 'int-test-secret-0123456789',
      users: [
        { sub: 'sub-mallory', claims: { preferred_username: 'oidc-mallory', email: 'oidc-mallory@example.com' } },
        { sub: 'sub-victor', claims: { preferred_username: 'victor', email: 'victor@example.com' } },
      ],
    });
    admin = createAdminToken({ DATABASE_URL: pg.url, DATA_DIR: stack.dataDir });
    readOnly = createAdminToken({ DATABASE_URL: pg.url, DATA_DIR: stack.dataDir }, 'read-only');
    const create = async (body: unknown) =>
      expect(
        (
          await fetch(`${base}/api/v1/idps`, {
            method: 'POST',
            headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
            body: JSON.stringify(body),
          })
        ).status,
      ).toBe(201);
    await create({
      id: 'test',
      name: 'Test SAML',
      manual: { entityId: IDP, ssoUrl: `${IDP}/protocol/saml`, sloUrl: `${IDP}/protocol/saml`, certificates: [keys.certificatePem] },
    });
    await create({
      id: 'test-oidc',
      name: 'Test OIDC',
      protocol: 'oidc',
      oidc: { issuer: oidc.issuer, clientId: oidc.clientId, clientSecret: oidc.clientSecret },
    });
    sql = new Client({ connectionString: pg.url });
    await sql.connect();
  });

  afterAll(async () => {
    await sql?.end();
    await stack?.stop();
    await oidc?.stop();
    await pg?.drop();
    await nats?.stop();
  });

  /** A SAML login started in `browser`: its RelayState, and a signed response for `nameId` answering it. */
  async function startSaml(browser: TestBrowser, nameId: string, email = `${nameId}@example.com`, groups = ['/staff']) {
    const res = await browser.fetch(`${base}/login?idp=test&returnTo=/session`);
    expect(res.status).toBe(302);
    const to = new URL(res.headers.get('location')!);
    const request = inflateRawSync(Buffer.from(to.searchParams.get('SAMLRequest')!, 'base64')).toString('utf8');
    const requestId = /ID="([^"]+)"/.exec(request)![1];
    const response = toBase64(
      buildSignedResponse({
        keys,
        idpEntityId: IDP,
        spEntityId: `${base}/saml/test/metadata`,
        acsUrl: `${base}/saml/test/acs`,
        inResponseTo: requestId,
        nameId,
        attributes: { email: [email], groups },
        signAssertion: true,
      }),
    );
    return { relayState: to.searchParams.get('RelayState')!, response };
  }

  /** Posts a SAML response to the ACS from `browser` (as the IdP's auto-post page would). */
  async function postAcs(browser: TestBrowser, fields: Record<string, string>) {
    const res = await browser.fetch(`${base}/saml/test/acs`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields),
    });
    const text = await res.text();
    return {
      status: res.status,
      location: res.headers.get('location'),
      setCookie: res.headers.getSetCookie().join('\n'),
      csp: res.headers.get('content-security-policy'),
      text,
      traceId: /id="trace-id">([^<]+)</.exec(text)?.[1],
    };
  }

  const trace = async (id: string) => (await rows('SELECT status, reason_code, reason FROM auth.login_traces WHERE id = $1', [id]))[0];
  const sessionOf = async (browser: TestBrowser) => {
    const res = await browser.fetch(`${base}/session`);
    return res.status === 200 ? ((await res.json()) as { user: { id: string; username: string } }) : res.status;
  };
  const signIn = async (browser: TestBrowser, nameId: string, email?: string) => {
    const login = await startSaml(browser, nameId, email);
    const done = await postAcs(browser, { SAMLResponse: login.response, RelayState: login.relayState });
    if (done.status !== 302) throw new Error(`${nameId} was refused: ${JSON.stringify(await trace(done.traceId!))}`);
    const session = await sessionOf(browser);
    if (typeof session === 'number') throw new Error(`no session for ${nameId}: ${session}`);
    return session;
  };

  describe('a login is bound to the browser that started it', () => {
    it("refuses the attacker's SAML response delivered to a victim's browser; the attacker's own browser still signs in with it", async () => {
      const attacker = new TestBrowser();
      const login = await startSaml(attacker, 'mallory');
      expect(attacker.cookie(base, 'bk_login')).toMatch(/^[A-Za-z0-9_-]{43}$/);

      // A victim who never started a login: the cross-site POST brings no login cookie, so the ACS
      // posts it again from its own page (same-site), which is where a cookie would come along.
      const victim = new TestBrowser();
      const first = await postAcs(victim, { SAMLResponse: login.response, RelayState: login.relayState });
      expect(first.status).toBe(200);
      expect(first.text).toContain('action="/saml/test/acs"');
      expect(first.text).toContain('name="bk_reposted"');
      expect(first.csp).toContain("form-action 'self'");
      const reposted = await postAcs(victim, { SAMLResponse: login.response, RelayState: login.relayState, bk_reposted: '1' });
      expect(reposted.status).toBe(400);
      expect(reposted.setCookie).not.toContain('bk_session=');
      expect(await trace(reposted.traceId!)).toMatchObject({ status: 'failed', reason_code: 'browser_mismatch' });

      // A victim with a login of their own under way: their cookie names another browser.
      const busyVictim = new TestBrowser();
      await startSaml(busyVictim, 'victim');
      const swapped = await postAcs(busyVictim, { SAMLResponse: login.response, RelayState: login.relayState });
      expect(swapped.status).toBe(400);
      expect(swapped.setCookie).not.toContain('bk_session=');
      expect(await trace(swapped.traceId!)).toMatchObject({ status: 'failed', reason_code: 'browser_mismatch' });
      expect(await sessionOf(busyVictim)).toBe(401);

      // Nothing was spoilt: the login state, its request id and the assertion id are all still unused.
      const own = await postAcs(attacker, { SAMLResponse: login.response, RelayState: login.relayState });
      expect(own).toMatchObject({ status: 302, location: '/session' });
      expect(await sessionOf(attacker)).toMatchObject({ user: { username: 'mallory' } });
    });

    it("refuses the attacker's OIDC callback opened in a victim's browser, without spending the code", async () => {
      const attacker = new TestBrowser();
      const start = await attacker.fetch(`${base}/login?idp=test-oidc&returnTo=/session`);
      expect(start.status).toBe(302);
      const back = await fetch(start.headers.get('location')!, { redirect: 'manual' });
      const callback = back.headers.get('location')!;
      expect(callback).toContain('/oidc/test-oidc/callback?');

      for (const victim of [
        new TestBrowser(),
        await (async () => {
          const b = new TestBrowser();
          await b.fetch(`${base}/login?idp=test-oidc&returnTo=/session`); // a login of their own, not finished
          return b;
        })(),
      ]) {
        const res = await victim.fetch(callback);
        expect(res.status).toBe(400);
        expect(res.headers.getSetCookie().join()).not.toContain('bk_session=');
        const traceId = /id="trace-id">([^<]+)</.exec(await res.text())![1];
        expect(await trace(traceId)).toMatchObject({ status: 'failed', reason_code: 'browser_mismatch' });
      }

      const own = await attacker.fetch(callback);
      expect(own.status).toBe(302);
      expect(await sessionOf(attacker)).toMatchObject({ user: { username: 'oidc-mallory' } });
    });

    it("keeps a login's secrets out of its trace: an admin who reads it cannot finish that login elsewhere", async () => {
      const browser = new TestBrowser();
      const start = await browser.fetch(`${base}/login?idp=test-oidc&returnTo=/session`);
      const authorize = new URL(start.headers.get('location')!);
      const [{ trace_id: traceId }] = await rows('SELECT trace_id FROM auth.login_states WHERE relay_state = $1', [authorize.searchParams.get('state')]);
      const seen = await fetch(`${base}/api/v1/login-traces/${traceId}`, { headers: { authorization: `Bearer ${readOnly}` } });
      expect(seen.status).toBe(200);
      const text = JSON.stringify(await seen.json());
      for (const secret of ['state', 'nonce', 'code_challenge']) {
        expect(authorize.searchParams.get(secret)!.length).toBeGreaterThan(20);
        expect(text).not.toContain(authorize.searchParams.get(secret));
      }
      expect(text).toContain('code_challenge_method=S256');
    });

    it('keeps logins in two tabs of one browser apart, and both work', async () => {
      const browser = new TestBrowser();
      const one = await startSaml(browser, 'tabby');
      const two = await startSaml(browser, 'tabby');
      expect((await postAcs(browser, { SAMLResponse: two.response, RelayState: two.relayState })).status).toBe(302);
      expect((await postAcs(browser, { SAMLResponse: one.response, RelayState: one.relayState })).status).toBe(302);
    });
  });

  describe('what a visitor sees when a login fails', () => {
    it('a plain page with the trace id, the same for every protocol refusal; the reason only in the trace', async () => {
      const browser = new TestBrowser();
      const login = await startSaml(browser, 'eve');
      const tampered = toBase64(Buffer.from(login.response, 'base64').toString('utf8').replace('eve@example.com', 'adm@example.com'));
      const badSignature = await postAcs(browser, { SAMLResponse: tampered, RelayState: login.relayState });
      expect(badSignature.status).toBe(400);
      const garbage = await postAcs(browser, { SAMLResponse: toBase64('<not-saml/>') });
      expect(garbage.status).toBe(400);
      for (const page of [badSignature, garbage]) {
        expect(page.traceId).toMatch(/^[0-9a-f-]{36}$/);
        expect(page.text).not.toMatch(/signature|digest|xml|saml|node|error:|reference|invalid/i);
      }
      const strip = (text: string) => text.replace(/[0-9a-f-]{36}/g, '<id>');
      expect(strip(badSignature.text)).toBe(strip(garbage.text));
      expect((await trace(badSignature.traceId!)).reason_code).toBe('signature');
      expect((await trace(garbage.traceId!)).reason).toBeTruthy();
    });
  });

  describe('forward-auth', () => {
    it('keeps the cookie small whatever the user is in: a user in 300 groups gets a session (the claims live in its row)', async () => {
      const browser = new TestBrowser();
      const groups = Array.from({ length: 300 }, (_, i) => `/team-${String(i).padStart(3, '0')}-of-the-very-long-department-name`);
      const login = await startSaml(browser, 'many.groups', 'many.groups@example.com', groups);
      const done = await postAcs(browser, { SAMLResponse: login.response, RelayState: login.relayState });
      expect(done.status).toBe(302);
      const cookie = done.setCookie.split('\n').find((c) => c.startsWith('bk_session='))!;
      expect(cookie.length).toBeLessThan(1024); // browsers keep 4 KB per cookie at most
      const session = (await (await browser.fetch(`${base}/session`)).json()) as { groups: string[]; user: { username: string } };
      expect(session.user.username).toBe('many.groups');
      expect(session.groups).toHaveLength(300);
      const verify = await browser.fetch(`${base}/auth/verify`);
      expect(verify.headers.get('x-auth-request-groups')!.split(',')).toHaveLength(300);
    });

    it('answers /auth/verify for any username: header values outside printable ASCII are percent-encoded (UTF-8), as groups are', async () => {
      const browser = new TestBrowser();
      await signIn(browser, 'zoë-李', 'zoe.li@example.com');
      const res = await browser.fetch(`${base}/auth/verify`);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-auth-request-user')).toBe('zo%C3%AB-%E6%9D%8E');
      expect(decodeURIComponent(res.headers.get('x-auth-request-user')!)).toBe('zoë-李');
      expect(res.headers.get('x-auth-request-email')).toBe('zoe.li@example.com'); // printable ASCII as it is
      expect(res.headers.get('x-auth-request-groups')).toBe('staff');
    });
  });

  describe('single logout from the IdP', () => {
    const logoutRequest = (nameId: string, over: { issueInstant?: Date; id?: string } = {}) =>
      `${base}/saml/test/slo?${buildLogoutRequestQuery({ keys, idpEntityId: IDP, sloUrl: `${base}/saml/test/slo`, nameId, ...over })}`;

    it('ends only the sessions it names, and clears only the cookie of a browser whose session it ended', async () => {
      const ulla = new TestBrowser();
      const vera = new TestBrowser();
      await signIn(ulla, 'ulla');
      await signIn(vera, 'vera');
      // Ulla's LogoutRequest, delivered to Vera's browser (a link on a page Vera visits).
      const delivered = await vera.fetch(logoutRequest('ulla'));
      expect(delivered.status).toBe(302);
      expect(delivered.headers.getSetCookie().join()).not.toMatch(/bk_session=;/);
      expect(await sessionOf(vera)).toMatchObject({ user: { username: 'vera' } });
      expect(await sessionOf(ulla)).toBe(401);
    });

    it('clears the cookie of the browser whose session it ends; refuses it replayed, and when stale', async () => {
      const wim = new TestBrowser();
      await signIn(wim, 'wim');
      const url = logoutRequest('wim');
      const own = await wim.fetch(url);
      expect(own.status).toBe(302);
      expect(own.headers.getSetCookie().join()).toMatch(/bk_session=;/);
      expect(await sessionOf(wim)).toBe(401);

      // The same LogoutRequest again, in another browser: refused, and it ends nothing.
      const xena = new TestBrowser();
      await signIn(xena, 'wim');
      const replayed = await xena.fetch(url);
      expect(replayed.status).toBe(400);
      expect(await sessionOf(xena)).toMatchObject({ user: { username: 'wim' } });

      // A LogoutRequest issued ten minutes ago: refused.
      const stale = await xena.fetch(logoutRequest('wim', { issueInstant: new Date(Date.now() - 600_000) }));
      expect(stale.status).toBe(400);
      expect(await sessionOf(xena)).toMatchObject({ user: { username: 'wim' } });
      expect(await stale.text()).not.toMatch(/issued|seconds| s ago|IssueInstant/);
    });
  });

  describe('offboarding', () => {
    const directoryApi = async (method: string, path: string, token = admin) => {
      const res = await fetch(`${directory}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
      return { status: res.status, body: await res.json().catch(() => undefined) };
    };
    const authApi = async (method: string, path: string, token = admin) => {
      const res = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
      return { status: res.status, body: await res.json().catch(() => undefined) };
    };
    const verify = async (browser: TestBrowser) => (await browser.fetch(`${base}/auth/verify`)).status;
    const until = async (what: () => Promise<boolean>, ms = 5000) => {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        if (await what()) return true;
        await new Promise((r) => setTimeout(r, 100));
      }
      return false;
    };

    it('a user disabled in the directory loses every session within seconds; enabled again, they sign in anew', async () => {
      const laptop = new TestBrowser();
      const phone = new TestBrowser();
      const { user } = await signIn(laptop, 'yann');
      await signIn(phone, 'yann');
      expect(await verify(laptop)).toBe(200);
      expect((await directoryApi('POST', `/api/v1/users/${user.id}/disable`)).status).toBe(200);
      expect(await until(async () => (await verify(laptop)) === 401 && (await verify(phone)) === 401)).toBe(true);
      expect(await sessionOf(laptop)).toBe(401);

      expect((await directoryApi('POST', `/api/v1/users/${user.id}/enable`)).status).toBe(200);
      await until(async () => (await rows('SELECT revoked FROM auth.user_access WHERE user_id = $1', [user.id]))[0]?.revoked === false);
      const again = new TestBrowser();
      await signIn(again, 'yann');
      expect(await verify(again)).toBe(200);
      expect(await verify(laptop)).toBe(401); // ended sessions stay ended
    });

    it('a user disabled through a bulk upsert loses every session too; a bulk item that leaves active out enables nobody', async () => {
      const browser = new TestBrowser();
      const { user } = await signIn(browser, 'bulky');
      const bulk = async (item: Record<string, unknown>) =>
        (
          await fetch(`${directory}/api/v1/users/bulk`, {
            method: 'POST',
            headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
            body: JSON.stringify({ users: [{ username: 'bulky', ...item }] }),
          })
        ).status;
      expect(await bulk({ source: 'test', externalId: 'bulky', active: false })).toBe(200);
      expect(await until(async () => (await verify(browser)) === 401)).toBe(true);
      expect(await bulk({ displayName: 'Bulky B.' })).toBe(200);
      expect((await directoryApi('GET', `/api/v1/users/${user.id}`)).body).toMatchObject({ active: false, displayName: 'Bulky B.' });
    });

    it('a user deleted in the directory loses every session within seconds', async () => {
      const browser = new TestBrowser();
      const { user } = await signIn(browser, 'zoe');
      expect((await directoryApi('DELETE', `/api/v1/users/${user.id}`)).status).toBeLessThan(300);
      expect(await until(async () => (await verify(browser)) === 401)).toBe(true);
    });

    it("admins list a user's sessions and end them (audited); a read-only token may only look", async () => {
      const one = new TestBrowser();
      const two = new TestBrowser();
      const { user } = await signIn(one, 'abel');
      await signIn(two, 'abel');
      const listed = await authApi('GET', `/api/v1/users/${user.id}/sessions`, readOnly);
      expect(listed.status).toBe(200);
      expect(listed.body.items).toHaveLength(2);
      expect(listed.body.items[0]).toEqual({
        id: expect.any(String),
        userId: user.id,
        idp: 'test',
        subject: 'abel',
        createdAt: expect.any(String),
        expiresAt: expect.any(String),
      });
      expect(JSON.stringify(listed.body)).not.toMatch(/eyJ/);

      expect((await authApi('DELETE', `/api/v1/sessions/${listed.body.items[0].id}`, readOnly)).status).toBe(403);
      expect((await authApi('DELETE', `/api/v1/sessions/${listed.body.items[0].id}`)).status).toBe(204);
      expect((await authApi('DELETE', `/api/v1/sessions/${listed.body.items[0].id}`)).status).toBe(404);
      expect((await authApi('DELETE', `/api/v1/users/${user.id}/sessions`, readOnly)).status).toBe(403);
      expect(await authApi('DELETE', `/api/v1/users/${user.id}/sessions`)).toMatchObject({ status: 200, body: { ended: 1 } });
      expect(await verify(one)).toBe(401);
      expect(await verify(two)).toBe(401);
      const audit = await rows(`SELECT action, actor FROM auth.audit_log WHERE action LIKE 'session%' ORDER BY at`);
      expect(audit.map((a) => a.action)).toEqual(['session.ended', 'sessions.ended']);
      expect(audit[0].actor).toMatch(/^admin-token:/);
    });
  });
});
