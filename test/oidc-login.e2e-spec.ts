import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Browser, Page } from 'playwright-core';
import { Client } from 'pg';
import { createTestDatabase, freePort, startNats, TestDatabase, TestNats, waitFor } from '@bridgekeeper/testing';
import { KEYCLOAK, KEYCLOAK_ISSUER, keycloakAdmin, launchChromium, submitKeycloakLogin } from './support/keycloak';
import { createAdminToken, Stack } from './support/stack';

/**
 * OpenID Connect through the real Keycloak in Chromium: an OIDC client registered from the
 * realm's own (PKCE S256, back-channel logout, Group Membership mapper), the IdP added through
 * auth's admin API, a login with JIT provisioning of the groups in the token — the same result
 * SAML gives — and logout both ways.
 */
const ROOT = join(__dirname, '..');
const IDP = 'kc-oidc';

describe('OIDC login through Keycloak', () => {
  let nats: TestNats;
  let pg: TestDatabase;
  let stack: Stack;
  let sql: Client;
  let browser: Browser;
  let base: string;
  let clientId: string;
  let adminToken: string;

  const registerClient = (...args: string[]) =>
    execFileSync(process.execPath, [join(ROOT, 'scripts/keycloak-register-oidc.mjs'), ...args], {
      env: { ...process.env, KEYCLOAK_URL: KEYCLOAK },
      encoding: 'utf8',
    });
  const rows = async (query: string, params: unknown[] = []) => (await sql.query(query, params)).rows;
  const sessionOf = async (page: Page) => {
    const res = await page.context().request.get(`${base}/session`);
    return { status: res.status(), body: res.ok() ? await res.json() : undefined };
  };

  async function signIn(username: string, password: string): Promise<Page> {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${base}/login?idp=${IDP}&returnTo=/session`);
    await submitKeycloakLogin(page, username, password);
    return page;
  }

  beforeAll(async () => {
    await waitFor('Keycloak (start it with scripts/keycloak.sh start)', async () => (await fetch(`${KEYCLOAK}/realms/bridgekeeper`)).ok, 10_000, 500);
    nats = await startNats();
    pg = await createTestDatabase();
    const ports = { auth: await freePort(), directory: await freePort(), provisioning: await freePort() };
    base = `http://localhost:${ports.auth}`;
    stack = new Stack({ natsUrl: nats.url, databaseUrl: pg.url, ports });
    await stack.start();
    sql = new Client({ connectionString: pg.url });
    await sql.connect();
    const client = JSON.parse(registerClient(base, IDP).trim().split('\n').pop()!);
    clientId = client.clientId;
    const token = (adminToken = createAdminToken({ DATABASE_URL: pg.url, DATA_DIR: stack.dataDir }));
    const res = await fetch(`${stack.services.auth.url}/api/v1/idps`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        id: IDP,
        name: 'Keycloak (OIDC)',
        protocol: 'oidc',
        oidc: { issuer: KEYCLOAK_ISSUER, clientId: client.clientId, clientSecret: client.clientSecret },
      }),
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ oidc: { endpoints: { endSession: `${KEYCLOAK_ISSUER}/protocol/openid-connect/logout` } } });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await sql?.end();
    await stack?.stop();
    if (base) registerClient('--remove', base, IDP);
    await pg?.drop();
    await nats?.stop();
  });

  it('signs alice in with her Keycloak groups from the token (the same user and groups SAML gives)', async () => {
    const kc = await keycloakAdmin();
    const [alice] = await kc.users.find({ username: 'alice', exact: true });
    const page = await signIn('alice', 'alice');
    expect(page.url()).toBe(`${base}/session`);
    expect(await sessionOf(page)).toMatchObject({
      status: 200,
      body: { user: { username: 'alice', email: 'alice@example.com', displayName: 'Alice Liddell' }, groups: ['engineering/backend', 'staff'], idp: IDP },
    });
    expect(await rows('SELECT source, external_id FROM directory.users WHERE username_lower = $1', ['alice'])).toEqual([
      { source: IDP, external_id: alice.id },
    ]);
    const [trace] = await rows(
      `SELECT t.status, (SELECT count(*) FROM auth.login_trace_steps s WHERE s.trace_id = t.id AND s.step = 'oidc.id-token-valid') AS verified FROM auth.login_traces t WHERE t.idp = $1`,
      [IDP],
    );
    expect(trace).toMatchObject({ status: 'succeeded', verified: '1' });
    await page.context().close();
  });

  it('a client whose tokens carry no profile claims (only the openid scope, userinfo off) signs alice in as the directory holds her: no rename to her sub, no wipe (issue 27)', async () => {
    const kc = await keycloakAdmin();
    const [kcClient] = await kc.clients.find({ clientId });
    const id = kcClient.id!;
    const profileScopes = (list: { id?: string; name?: string }[]) => list.filter((sc) => sc.name === 'profile' || sc.name === 'email');
    const removedDefault = profileScopes(await kc.clients.listDefaultClientScopes({ id }));
    const removedOptional = profileScopes(await kc.clients.listOptionalClientScopes({ id }));
    const idpApi = (body: unknown) =>
      fetch(`${stack.services.auth.url}/api/v1/idps/${IDP}`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    try {
      for (const sc of removedDefault) await kc.clients.delDefaultClientScope({ id, clientScopeId: sc.id! });
      for (const sc of removedOptional) await kc.clients.delOptionalClientScope({ id, clientScopeId: sc.id! });
      // As an OP following OIDC Core answers a client that asks for openid alone, with userinfo off.
      expect((await idpApi({ oidc: { userinfo: false, scopes: ['openid'] } })).status).toBe(200);
      const page = await signIn('alice', 'alice');
      expect(page.url()).toBe(`${base}/session`);
      expect(await sessionOf(page)).toMatchObject({
        status: 200,
        body: { user: { username: 'alice', email: 'alice@example.com', displayName: 'Alice Liddell' }, groups: ['engineering/backend', 'staff'] },
      });
      const [trace] = await rows(
        `SELECT id, response_message FROM auth.login_traces WHERE idp = $1 AND status = 'succeeded' ORDER BY started_at DESC LIMIT 1`,
        [IDP],
      );
      const claims = JSON.parse(trace.response_message).claims;
      expect(claims.preferred_username).toBeUndefined(); // the token really carried no profile
      expect(claims.email).toBeUndefined();
      const [absent] = await rows(`SELECT detail FROM auth.login_trace_steps WHERE trace_id = $1 AND step = 'provisioning.claims-absent'`, [trace.id]);
      expect(absent.detail).toEqual(expect.stringContaining('claim_absent username'));
      expect(absent.detail).toEqual(expect.stringContaining('claim_absent email'));
      await page.context().close();
    } finally {
      for (const sc of removedDefault) await kc.clients.addDefaultClientScope({ id, clientScopeId: sc.id! });
      for (const sc of removedOptional) await kc.clients.addOptionalClientScope({ id, clientScopeId: sc.id! });
      await idpApi({ oidc: { userinfo: true, scopes: ['openid', 'email', 'profile'] } });
    }
  });

  it('logs out at Keycloak too (RP-initiated, id_token_hint): the next login asks for the password again', async () => {
    const page = await signIn('alice', 'alice');
    expect((await sessionOf(page)).status).toBe(200);
    const atKeycloak = page.waitForRequest((r) => r.url().startsWith(`${KEYCLOAK_ISSUER}/protocol/openid-connect/logout?`));
    // The page already shows /session: wait for the navigation that lands there again, from Keycloak.
    const backHome = page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame() && f.url() === `${base}/session`, timeout: 30_000 });
    await page.evaluate(() => {
      const form = document.createElement('form');
      form.method = 'POST';
      form.action = '/logout?returnTo=/session';
      document.body.appendChild(form);
      form.submit();
    });
    expect(new URL((await atKeycloak).url()).searchParams.get('id_token_hint')).toMatch(/^eyJ/);
    await backHome;
    await page.waitForLoadState('load');
    expect((await sessionOf(page)).status).toBe(401);
    await page.goto(`${base}/login?idp=${IDP}&returnTo=/session`);
    await page.waitForSelector('#username'); // no Keycloak session left: its login form again
    await page.context().close();
  });

  it('ends the session when Keycloak logs the user out (back-channel logout token)', async () => {
    const page = await signIn('alice', 'alice');
    expect((await sessionOf(page)).status).toBe(200);
    const kc = await keycloakAdmin();
    const [alice] = await kc.users.find({ username: 'alice', exact: true });
    // An admin ends alice's Keycloak session that signed in to this client; Keycloak sends the
    // client a back-channel logout token naming it (sid) and her (sub).
    const sessions = await kc.users.listSessions({ id: alice.id! });
    const ours = sessions.filter((s) => Object.values(s.clients ?? {}).some((c) => String(c).startsWith('bridgekeeper-oidc-')));
    expect(ours.length).toBeGreaterThan(0);
    for (const s of ours) await kc.realms.deleteSession({ realm: 'bridgekeeper', session: s.id!, isOffline: false });
    await waitFor('the back-channel logout', async () => (await sessionOf(page)).status === 401, 15_000, 250);
    await page.context().close();
  });
});
