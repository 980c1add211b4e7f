import { execFileSync } from 'node:child_process';
import { deflateRawSync } from 'node:zlib';
import { join } from 'node:path';
import { DOMParser } from '@xmldom/xmldom';
import { Browser, Page } from 'playwright-core';
import { Client } from 'pg';
import { createTestDatabase, freePort, startNats, TestDatabase, TestNats, waitFor } from '@bridgekeeper/testing';
import { KEYCLOAK, keycloakAdmin, launchChromium } from './support/keycloak';
import { createAdminToken, Stack } from './support/stack';

/**
 * The walking skeleton, for real: Chromium → auth /login → Keycloak's own login page →
 * POST /saml/keycloak/acs → user.authenticated on JetStream → provisioning (JIT) → directory →
 * user.provisioned → session cookie → GET /session. Keycloak must be running
 * (scripts/keycloak.sh start); NATS and PostgreSQL are the test's own.
 */
const ROOT = join(__dirname, '..');

/** The EncryptionMethod algorithms in a (redacted) response: the EncryptedData's content, and its EncryptedKey's key transport. */
function encryptionMethods(xml: string): { content: string[]; key: string[] } {
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  const methods = Array.from(doc.getElementsByTagNameNS('http://www.w3.org/2001/04/xmlenc#', 'EncryptionMethod'));
  const of = (parent: string) => methods.filter((m) => m.parentNode?.localName === parent).map((m) => m.getAttribute('Algorithm') ?? '');
  return { content: of('EncryptedData'), key: of('EncryptedKey') };
}

describe('SAML login through Keycloak with JIT provisioning', () => {
  let nats: TestNats;
  let pg: TestDatabase;
  let stack: Stack;
  let sql: Client;
  let browser: Browser;
  let base: string;

  const registerSp = (...args: string[]) =>
    execFileSync(process.execPath, [join(ROOT, 'scripts/keycloak-register-sp.mjs'), ...args], {
      env: { ...process.env, KEYCLOAK_URL: KEYCLOAK },
      stdio: 'pipe',
    });
  const rows = async (query: string, params: unknown[] = []) => (await sql.query(query, params)).rows;

  /** A fresh browser context (no Keycloak SSO cookie), through Keycloak's real login form. */
  async function signIn(
    username: string,
    password: string,
    opts: { tamper?: (xml: string) => string; returnTo?: string; refusedByKeycloak?: RegExp; idp?: string } = {},
  ): Promise<Page> {
    const context = await browser.newContext();
    const page = await context.newPage();
    if (opts.tamper) {
      await page.route('**/saml/*/acs', async (route) => {
        const form = new URLSearchParams(route.request().postData() ?? '');
        const xml = Buffer.from(form.get('SAMLResponse') ?? '', 'base64').toString('utf8');
        form.set('SAMLResponse', Buffer.from(opts.tamper!(xml), 'utf8').toString('base64'));
        await route.continue({ postData: form.toString() });
      });
    }
    await page.goto(`${base}/login?returnTo=${encodeURIComponent(opts.returnTo ?? '/session')}${opts.idp ? `&idp=${opts.idp}` : ''}`);
    await page.waitForSelector('#username');
    expect(page.url()).toContain('localhost:8080/realms/bridgekeeper/'); // Keycloak's own login page
    await page.fill('#username', username);
    await page.fill('#password', password);
    await page.click('#kc-login');
    if (opts.refusedByKeycloak) {
      const text = opts.refusedByKeycloak;
      await page.waitForFunction((source) => new RegExp(source, 'i').test(document.body?.innerText ?? ''), text.source, { timeout: 30_000 });
    } else {
      await page.waitForURL((u) => u.port !== '8080', { timeout: 60_000 });
    }
    await page.waitForLoadState('load');
    return page;
  }

  /** An admin API call with a token made by the CLI. */
  let adminToken: string;
  const adminApi = async (service: 'auth' | 'directory' | 'provisioning', method: string, path: string, body?: unknown) => {
    adminToken ??= createAdminToken({ DATABASE_URL: pg.url, DATA_DIR: stack.dataDir });
    const res = await fetch(`${stack.services[service].url}${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json().catch(() => undefined);
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  /** A second IdP on the same Keycloak realm, added through auth's admin API, with its SAML client registered. */
  const addIdp = async (id: string, extra: Record<string, unknown> = {}) => {
    const idp = await adminApi('auth', 'POST', '/api/v1/idps', {
      id,
      name: `Keycloak (${id})`,
      metadataUrl: `${KEYCLOAK}/realms/bridgekeeper/protocol/saml/descriptor`,
      ...extra,
    });
    registerSp(base, id);
    return idp;
  };

  const sessionOf = async (page: Page) => {
    const res = await page.context().request.get(`${base}/session`);
    return { status: res.status(), body: res.ok() ? await res.json() : undefined };
  };

  beforeAll(async () => {
    await waitFor('Keycloak (start it with scripts/keycloak.sh start)', async () => (await fetch(`${KEYCLOAK}/realms/bridgekeeper`)).ok, 10_000, 500);
    nats = await startNats();
    pg = await createTestDatabase();
    const ports = { auth: await freePort(), directory: await freePort(), provisioning: await freePort() };
    base = `http://localhost:${ports.auth}`;
    stack = new Stack({
      natsUrl: nats.url,
      databaseUrl: pg.url,
      ports,
      // Provisioning gives up (3 tries of a 1 s directory call) well before a login stops waiting (8 s).
      extraEnv: {
        auth: { AUTH_PROVISIONING_TIMEOUT_MS: '8000' },
        provisioning: { PROVISIONING_MODELS: 'keycloak-manual=manual', PROVISIONING_MAX_DELIVER: '3', PROVISIONING_DIRECTORY_TIMEOUT_MS: '1000' },
      },
    });
    await stack.start();
    registerSp(base);
    sql = new Client({ connectionString: pg.url });
    await sql.connect();
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await sql?.end();
    await stack?.stop();
    if (base) registerSp('--remove', base);
    await pg?.drop();
    await nats?.stop();
  });

  it('signs alice in, provisions her with her Keycloak groups and shows the session', async () => {
    const page = await signIn('alice', 'alice');
    expect(page.url()).toBe(`${base}/session`);
    const session = await sessionOf(page);
    expect(session).toMatchObject({
      status: 200,
      body: {
        user: { username: 'alice', email: 'alice@example.com', displayName: 'Alice Liddell' },
        groups: ['engineering/backend', 'staff'],
        idp: 'keycloak',
      },
    });
    const [user] = await rows('SELECT * FROM directory.users WHERE username_lower = $1', ['alice']);
    expect(user).toMatchObject({ id: session.body.user.id, email: 'alice@example.com', source: 'keycloak', external_id: 'alice', active: true });
    const groups = await rows('SELECT g.name FROM directory.groups g JOIN directory.memberships m ON m.group_id = g.id WHERE m.user_id = $1 ORDER BY g.name', [
      user.id,
    ]);
    expect(groups.map((g) => g.name)).toEqual(['engineering/backend', 'staff']);
    const [trace] = await rows(`SELECT id, status, user_id, attributes FROM auth.login_traces WHERE user_id = $1`, [user.id]);
    expect(trace).toMatchObject({ status: 'succeeded' });
    expect(JSON.parse(trace.attributes)).toMatchObject({ email: ['alice@example.com'], groups: ['/engineering/backend', '/staff'] });
    // The response was verified off the event loop, on the validation worker.
    const [valid] = await rows(`SELECT detail FROM auth.login_trace_steps WHERE trace_id = $1 AND step = 'saml.response-valid'`, [trace.id]);
    expect(valid.detail).toMatch(/^NameID alice \(verified in [\d.]+ ms on a worker thread\)$/);

    // Forward-auth and logout on the same session.
    const verify = await page.context().request.get(`${base}/auth/verify`);
    expect(verify.status()).toBe(200);
    expect(verify.headers()['x-auth-request-user']).toBe('alice');
    expect(verify.headers()['x-auth-request-groups']).toBe('engineering%2Fbackend,staff');
    // Sign out: the session ends here and, through a signed LogoutRequest, at Keycloak too.
    await page.goto(base);
    await page.click('button[type=submit]');
    await page.waitForURL(`${base}/`);
    expect((await sessionOf(page)).status).toBe(401);
    expect((await page.context().request.get(`${base}/auth/verify`)).status()).toBe(401);
    await page.goto(`${base}/login`);
    await page.waitForSelector('#username'); // Keycloak asks again: its session ended as well
    await page.context().close();
  });

  it('updates alice on her second login and creates no duplicate', async () => {
    const [before] = await rows('SELECT id, last_login_at FROM directory.users WHERE username_lower = $1', ['alice']);
    const page = await signIn('alice', 'alice', { returnTo: '/' });
    expect(page.url()).toBe(`${base}/`);
    expect(await page.textContent('#username')).toBe('alice');
    const users = await rows('SELECT id, last_login_at FROM directory.users WHERE username_lower = $1', ['alice']);
    expect(users).toHaveLength(1);
    expect(users[0].id).toBe(before.id);
    // The last-login time is noted right behind provisioning's answer.
    await waitFor(
      'the last login to be noted',
      async () => {
        const [now] = await rows('SELECT last_login_at FROM directory.users WHERE id = $1', [before.id]);
        return new Date(now.last_login_at).getTime() > new Date(before.last_login_at).getTime();
      },
      5000,
      50,
    );
    await page.context().close();
  });

  it('follows Keycloak on the next login: a changed email and changed groups reach the directory (JIT)', async () => {
    const kc = await keycloakAdmin();
    const [alice] = await kc.users.find({ username: 'alice', exact: true });
    const groups = await kc.groups.find({ briefRepresentation: true });
    const staff = groups.find((g) => g.name === 'staff')!;
    const contractors = groups.find((g) => g.name === 'contractors')!;
    await kc.users.update({ id: alice.id! }, { email: 'alice.liddell@example.com' });
    await kc.users.delFromGroup({ id: alice.id!, groupId: staff.id! });
    await kc.users.addToGroup({ id: alice.id!, groupId: contractors.id! });
    try {
      const page = await signIn('alice', 'alice');
      expect(await sessionOf(page)).toMatchObject({
        status: 200,
        body: { user: { email: 'alice.liddell@example.com' }, groups: ['contractors', 'engineering/backend'] },
      });
      const [row] = await rows('SELECT id, email FROM directory.users WHERE username_lower = $1', ['alice']);
      expect(row.email).toBe('alice.liddell@example.com');
      const names = await rows('SELECT g.name FROM directory.groups g JOIN directory.memberships m ON m.group_id = g.id WHERE m.user_id = $1 ORDER BY g.name', [
        row.id,
      ]);
      expect(names.map((g) => g.name)).toEqual(['contractors', 'engineering/backend']);
      await page.context().close();
    } finally {
      await kc.users.update({ id: alice.id! }, { email: 'alice@example.com' });
      await kc.users.delFromGroup({ id: alice.id!, groupId: contractors.id! });
      await kc.users.addToGroup({ id: alice.id!, groupId: staff.id! });
    }
    // And back: the next login restores her groups.
    const again = await signIn('alice', 'alice');
    expect((await sessionOf(again)).body.groups).toEqual(['engineering/backend', 'staff']);
    await again.context().close();
  });

  it.each([
    ['tampered', (xml: string) => xml.replace(/bob@example\.com/g, 'root@example.com')],
    ['unsigned', (xml: string) => xml.replace(/<(\w+:)?Signature[\s\S]*?<\/(\w+:)?Signature>/g, '')],
  ])('refuses a %s SAMLResponse with a 4xx page and writes nothing', async (_kind, tamper) => {
    const page = await signIn('bob', 'bob', { tamper });
    expect(page.url()).toBe(`${base}/saml/keycloak/acs`);
    expect(await page.textContent('h1')).toBe('Sign-in could not be completed');
    expect(await page.textContent('#error-message')).not.toMatch(/signature/i); // the reason is for admins, in the trace
    const traceId = (await page.textContent('#trace-id'))!;
    const [trace] = await rows('SELECT status, reason_code, reason FROM auth.login_traces WHERE id = $1', [traceId]);
    expect(trace).toMatchObject({ status: 'failed', reason_code: 'signature' });
    expect(await rows('SELECT id FROM directory.users WHERE username_lower = $1', ['bob'])).toHaveLength(0);
    // An admin looks the trace id up on auth's admin API (token checked by the directory).
    const url = `${stack.services.auth.url}/api/v1/login-traces/${traceId}`;
    expect((await fetch(url)).status).toBe(401);
    const token = createAdminToken({ DATABASE_URL: pg.url, DATA_DIR: stack.dataDir }, 'read-only');
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({
      id: traceId,
      idp: 'keycloak',
      status: 'failed',
      reasonCode: 'signature',
      steps: expect.arrayContaining([expect.objectContaining({ step: 'saml.response-received' })]),
    });
    expect(body.messages.request).toMatch(/<samlp:AuthnRequest [\s\S]*ID="_/);
    expect(body.messages.response).toContain('<saml:NameID');
    expect(body.messages.response).not.toMatch(/SignatureValue>[A-Za-z0-9+/=]{20,}/);
    await page.context().close();
  });

  it('returns the 4xx status for a refused response', async () => {
    const res = await fetch(`${base}/saml/keycloak/acs`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'SAMLResponse=PGZvbw%3D%3D',
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('Sign-in could not be completed');
  });

  it('waits a bounded time while provisioning is down, then fails clearly; the login is processed when provisioning returns', async () => {
    await stack.services.provisioning.stop();
    const page = await signIn('bob', 'bob');
    expect(await page.textContent('h1')).toBe('Sign-in unavailable');
    expect(await page.textContent('#error-message')).toContain('could not be prepared in time');
    const traceId = (await page.textContent('#trace-id'))!;
    expect((await rows('SELECT reason_code FROM auth.login_traces WHERE id = $1', [traceId]))[0].reason_code).toBe('provisioning_timeout');
    expect(await rows('SELECT id FROM directory.users WHERE username_lower = $1', ['bob'])).toHaveLength(0);
    await page.context().close();

    await stack.services.provisioning.start();
    await waitFor(
      'bob provisioned from the kept event',
      async () => (await rows('SELECT id FROM directory.users WHERE username_lower = $1', ['bob'])).length === 1,
      30_000,
      250,
    );

    const again = await signIn('bob', 'bob');
    expect(await sessionOf(again)).toMatchObject({ status: 200, body: { user: { username: 'bob' }, groups: ['contractors', 'staff'] } });
    expect(await rows('SELECT id FROM directory.users WHERE username_lower = $1', ['bob'])).toHaveLength(1);
    await again.context().close();
  });

  it('never provisions a user Keycloak has disabled', async () => {
    const page = await signIn('dave', 'dave', { refusedByKeycloak: /disabled/ });
    expect(page.url()).toContain('localhost:8080');
    expect(await rows('SELECT id FROM directory.users WHERE username_lower = $1', ['dave'])).toHaveLength(0);
    await page.context().close();
  });

  it("Manual model: only users an admin created may sign in, with the directory's groups", async () => {
    await addIdp('keycloak-manual', { emailDomains: ['manual.example.com'] });
    const api = (method: string, path: string, body?: unknown) => adminApi('directory', method, path, body);
    try {
      // The chooser routes by email domain.
      const routed = await fetch(`${base}/login?login_hint=carol@manual.example.com`, { redirect: 'manual' });
      expect(routed.status).toBe(302);
      expect(routed.headers.get('set-cookie')).toContain('bk_last_idp=keycloak-manual');
      await routed.body?.cancel();
      const refused = await signIn('carol', 'carol', { idp: 'keycloak-manual' });
      expect(refused.url()).toBe(`${base}/saml/keycloak-manual/acs`);
      expect(await refused.textContent('#error-message')).toContain('You have no account here yet');
      expect(await rows('SELECT id FROM directory.users WHERE username_lower = $1', ['carol'])).toHaveLength(0);
      await refused.context().close();

      // The Manual model: an admin creates the user for this IdP.
      const carol = await api('POST', '/api/v1/users', { username: 'carol', email: 'carol@example.com', displayName: 'Carol C.', source: 'keycloak-manual' });
      const group = await api('POST', '/api/v1/groups', { name: 'jira-users' });
      await api('PUT', `/api/v1/users/${carol.id}/groups`, { groupIds: [group.id] });

      const page = await signIn('carol', 'carol', { idp: 'keycloak-manual' });
      expect(await sessionOf(page)).toMatchObject({
        status: 200,
        body: { user: { id: carol.id, username: 'carol', displayName: 'Carol C.' }, groups: ['jira-users'], idp: 'keycloak-manual' },
      });
      const [row] = await rows('SELECT external_id, source, display_name FROM directory.users WHERE id = $1', [carol.id]);
      // Linked to the subject of its first login (nothing else changed): a later holder of the name at the IdP is someone else.
      expect(row).toMatchObject({ external_id: 'carol', source: 'keycloak-manual', display_name: 'Carol C.' });
      await waitFor(
        'the last login to be noted',
        async () => (await rows('SELECT last_login_at FROM directory.users WHERE id = $1', [carol.id]))[0].last_login_at !== null,
        5000,
        50,
      );
      expect(await rows(`SELECT id FROM directory.groups WHERE name = 'engineering/frontend'`)).toHaveLength(0);
      await page.context().close();
    } finally {
      await adminApi('auth', 'DELETE', '/api/v1/idps/keycloak-manual');
      registerSp('--remove', base, 'keycloak-manual');
    }
  });

  it('signs in with the HTTP-POST binding too (AuthnRequest signed inside the XML), on an IdP added through the admin API', async () => {
    const idp = await addIdp('keycloak-post', { binding: 'HTTP-POST' });
    expect(idp).toMatchObject({
      binding: 'HTTP-POST',
      idp: { entityId: 'http://localhost:8080/realms/bridgekeeper', certificates: [{ status: 'valid' }] },
      sp: { acsUrl: `${base}/saml/keycloak-post/acs` },
    });
    try {
      const chooser = await (await fetch(`${base}/login`)).text();
      expect(chooser).toContain('Sign in with Keycloak (keycloak-post)');
      // carol was created for keycloak-manual in the Manual test: not this IdP's to take over.
      const refused = await signIn('carol', 'carol', { idp: 'keycloak-post' });
      const [trace] = await rows('SELECT reason_code FROM auth.login_traces WHERE id = $1', [(await refused.textContent('#trace-id'))!]);
      expect(trace.reason_code).toBe('account_not_owned');
      await refused.context().close();
      // A local account made by hand, and an admin who lets this IdP claim local accounts: JIT takes
      // it over and adds her Keycloak groups next to the local one.
      const [{ id: manualCarol }] = await rows(`SELECT id FROM directory.users WHERE username_lower = 'carol'`);
      await adminApi('directory', 'DELETE', `/api/v1/users/${manualCarol}`);
      const localCarol = await adminApi('directory', 'POST', '/api/v1/users', { username: 'carol', email: 'carol@example.com', displayName: 'Carol C.' });
      const [{ id: jiraUsers }] = await rows(`SELECT id FROM directory.groups WHERE name = 'jira-users'`);
      await adminApi('directory', 'PUT', `/api/v1/users/${localCarol.id}/groups`, { groupIds: [jiraUsers] });
      await adminApi('provisioning', 'PATCH', '/api/v1/idps/keycloak-post/provisioning', { model: 'jit', claimLocalUsers: true });
      const page = await signIn('carol', 'carol', { idp: 'keycloak-post' });
      expect(page.url()).toBe(`${base}/session`);
      expect(await sessionOf(page)).toMatchObject({
        status: 200,
        body: { user: { username: 'carol' }, groups: ['engineering/frontend', 'jira-users'], idp: 'keycloak-post' },
      });
      expect(await rows('SELECT source, external_id FROM directory.users WHERE username_lower = $1', ['carol'])).toEqual([
        { source: 'keycloak-post', external_id: 'carol' },
      ]);
      await page.context().close();
    } finally {
      await adminApi('auth', 'DELETE', '/api/v1/idps/keycloak-post');
      registerSp('--remove', base, 'keycloak-post');
    }
  });

  it('ends the session when Keycloak logs the user out (IdP-initiated, signed), and refuses an unsigned logout request', async () => {
    const page = await signIn('bob', 'bob');
    expect((await sessionOf(page)).status).toBe(200);

    // An unsigned LogoutRequest for bob logs nobody out.
    const unsigned = `<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_forged" Version="2.0" IssueInstant="${new Date().toISOString()}" Destination="${base}/saml/keycloak/slo"><saml:Issuer>http://localhost:8080/realms/bridgekeeper</saml:Issuer><saml:NameID>bob</saml:NameID></samlp:LogoutRequest>`;
    const forged = await page
      .context()
      .request.get(`${base}/saml/keycloak/slo?SAMLRequest=${encodeURIComponent(deflateRawSync(unsigned).toString('base64'))}`, { maxRedirects: 0 });
    expect(forged.status()).toBe(400);
    expect(await forged.text()).toContain('Sign-out refused');
    expect(await forged.text()).not.toContain('not signed'); // why is in auth's log, for admins
    // The log line reaches this process through auth's stdout pipe, which may come after the HTTP answer.
    await waitFor('auth to log why', async () => stack.services.auth.output.includes('the LogoutRequest is not signed'), 5000, 50);
    expect((await sessionOf(page)).status).toBe(200);

    // Logging out at Keycloak sends a signed LogoutRequest through the browser to /saml/keycloak/slo.
    await page.goto(`${KEYCLOAK.replace('127.0.0.1', 'localhost')}/realms/bridgekeeper/protocol/openid-connect/logout`);
    await page.click('#kc-logout');
    await page.waitForLoadState('networkidle');
    expect((await sessionOf(page)).status).toBe(401);
    await page.context().close();
  });

  it('accepts encrypted assertions (Keycloak encrypts to the SP encryption certificate from our metadata, with AES-256-GCM); CBC only where the IdP opts in', async () => {
    await adminApi('auth', 'POST', '/api/v1/idps', {
      id: 'keycloak-enc',
      name: 'Keycloak (encrypted)',
      metadataUrl: `${KEYCLOAK}/realms/bridgekeeper/protocol/saml/descriptor`,
    });
    registerSp(base, 'keycloak-enc', '--encrypt');
    const kc = await keycloakAdmin();
    const username = `enc-${Math.random().toString(36).slice(2, 8)}`;
    const { id: kcUserId } = await kc.users.create({
      username,
      email: `${username}@example.com`,
      firstName: 'En',
      lastName: 'Crypted',
      enabled: true,
      emailVerified: true,
      credentials: [{ type: 'password', value: 'pw', temporary: false }],
    });
    try {
      // The client asks for AES-256-GCM explicitly (Bridgekeeper refuses CBC unless an IdP opts in).
      const [client] = await kc.clients.find({ clientId: `${base}/saml/keycloak-enc/metadata` });
      expect(client.attributes).toMatchObject({
        'saml.encryption.algorithm': 'http://www.w3.org/2009/xmlenc11#aes256-gcm',
        'saml.encryption.keyAlgorithm': 'http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p',
      });
      const page = await signIn(username, 'pw', { idp: 'keycloak-enc' });
      expect(await sessionOf(page)).toMatchObject({ status: 200, body: { user: { username }, idp: 'keycloak-enc' } });
      const [trace] = await rows(
        `SELECT response_message FROM auth.login_traces WHERE idp = 'keycloak-enc' AND status = 'succeeded' ORDER BY started_at DESC LIMIT 1`,
      );
      expect(trace.response_message).toContain('EncryptedAssertion');
      expect(trace.response_message).not.toContain(username); // the subject travelled encrypted
      // What Keycloak used: AES-256-GCM content, its key sent with RSA-OAEP.
      expect(encryptionMethods(trace.response_message)).toEqual({
        content: ['http://www.w3.org/2009/xmlenc11#aes256-gcm'],
        key: ['http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p'],
      });
      await page.context().close();

      // Keycloak told to encrypt with AES-128-CBC: refused before decryption, until the IdP opts in to CBC.
      const cbc = 'http://www.w3.org/2001/04/xmlenc#aes128-cbc';
      await kc.clients.update({ id: client.id! }, { ...client, attributes: { ...client.attributes, 'saml.encryption.algorithm': cbc } });
      const refusedPage = await signIn(username, 'pw', { idp: 'keycloak-enc' });
      expect((await sessionOf(refusedPage)).status).toBe(401);
      const [refused] = await rows(
        `SELECT status, reason_code, response_message FROM auth.login_traces WHERE idp = 'keycloak-enc' ORDER BY started_at DESC LIMIT 1`,
      );
      expect(refused).toMatchObject({ status: 'failed', reason_code: 'algorithm' });
      expect(encryptionMethods(refused.response_message).content).toEqual([cbc]);
      await refusedPage.context().close();
      await adminApi('auth', 'PATCH', '/api/v1/idps/keycloak-enc', { allowCbcEncryption: true });
      const cbcPage = await signIn(username, 'pw', { idp: 'keycloak-enc' });
      expect(await sessionOf(cbcPage)).toMatchObject({ status: 200, body: { user: { username }, idp: 'keycloak-enc' } });
      await cbcPage.context().close();
    } finally {
      await kc.users.del({ id: kcUserId });
      await adminApi('auth', 'DELETE', '/api/v1/idps/keycloak-enc');
      registerSp('--remove', base, 'keycloak-enc');
    }
  });

  it('accepts an IdP-initiated login only on an IdP that allows it', async () => {
    await addIdp('keycloak-idpinit', { allowIdpInitiated: true });
    const kc = await keycloakAdmin();
    const urlName = `bk-${Math.random().toString(36).slice(2, 8)}`;
    const [client] = await kc.clients.find({ clientId: `${base}/saml/keycloak-idpinit/metadata` });
    await kc.clients.update(
      { id: client.id! },
      { ...client, attributes: { ...client.attributes, saml_idp_initiated_sso_url_name: urlName, saml_idp_initiated_sso_relay_state: '/session' } },
    );
    // A user no other IdP has provisioned yet (JIT never takes over another IdP's account).
    const username = `idpinit-${urlName}`;
    const { id: kcUserId } = await kc.users.create({
      username,
      email: `${username}@example.com`,
      firstName: 'Idp',
      lastName: 'Initiated',
      enabled: true,
      emailVerified: true,
      credentials: [{ type: 'password', value: 'pw', temporary: false }],
    });
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${KEYCLOAK.replace('127.0.0.1', 'localhost')}/realms/bridgekeeper/protocol/saml/clients/${urlName}`);
      await page.fill('#username', username);
      await page.fill('#password', 'pw');
      await page.click('#kc-login');
      await page.waitForURL(`${base}/session`, { timeout: 60_000 });
      expect(await sessionOf(page)).toMatchObject({ status: 200, body: { user: { username }, idp: 'keycloak-idpinit' } });
      await context.close();
    } finally {
      await kc.users.del({ id: kcUserId });
      await adminApi('auth', 'DELETE', '/api/v1/idps/keycloak-idpinit');
      registerSp('--remove', base, 'keycloak-idpinit');
    }
  });

  it('replays a recorded login in the mapping simulator by its trace id', async () => {
    const [trace] = await rows(
      `SELECT t.id FROM auth.login_traces t JOIN directory.users u ON u.id = t.user_id WHERE u.username_lower = 'bob' AND t.status = 'succeeded' ORDER BY t.started_at DESC LIMIT 1`,
    );
    adminToken ??= createAdminToken({ DATABASE_URL: pg.url, DATA_DIR: stack.dataDir });
    const simulate = (body: unknown) =>
      fetch(`${stack.services.provisioning.url}/api/v1/idps/keycloak/simulate`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const res = await simulate({ traceId: trace.id });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      model: 'jit',
      outcome: 'unchanged',
      identity: { username: 'bob', groups: ['contractors', 'staff'] },
      directory: { status: 'provisioned', changes: [] },
    });
    expect((await simulate({ traceId: crypto.randomUUID() })).status).toBe(404);
  });

  it('fails a login at once, with the reason in its trace, when provisioning gives up on it (dead letter)', async () => {
    await stack.services.directory.stop();
    try {
      const page = await signIn('alice', 'alice');
      expect(await page.textContent('#error-message')).toContain('Sign-in is unavailable right now');
      const traceId = (await page.textContent('#trace-id'))!;
      const trace = await waitFor('the dead letter in the trace', async () => {
        const [t] = await rows(
          `SELECT reason_code, reason FROM auth.login_traces t WHERE id = $1 AND status = 'failed'
             AND EXISTS (SELECT 1 FROM auth.login_trace_steps s WHERE s.trace_id = t.id AND s.step = 'provisioning.dead-lettered')`,
          [traceId],
        );
        return t ?? null;
      });
      expect(trace.reason_code).toBe('provisioning_failed');
      expect(trace.reason).toMatch(/provisioning gave up after 3 tries/);
      await page.context().close();
    } finally {
      await stack.services.directory.start();
    }
  });
  it('survives a Keycloak key rollover: a new realm key is trusted once the metadata is refreshed, and the old key keeps working', async () => {
    const kc = await keycloakAdmin();
    const realm = await kc.realms.findOne({ realm: 'bridgekeeper' });
    const before = await adminApi('auth', 'POST', '/api/v1/idps/keycloak/refresh-metadata');
    expect(before.idp.certificates).toHaveLength(1);
    const keyConfig = { priority: ['500'], keySize: ['2048'], enabled: ['true'], algorithm: ['RS256'] };
    const { id: componentId } = await kc.components.create({
      name: `e2e-rollover-${Date.now()}`,
      providerId: 'rsa-generated',
      providerType: 'org.keycloak.keys.KeyProvider',
      parentId: realm!.id,
      config: { ...keyConfig, active: ['true'] },
    });
    try {
      // Keycloak now signs with its new key, which Bridgekeeper has not seen: refused, nothing logged in.
      const refused = await signIn('alice', 'alice');
      const [trace] = await rows('SELECT reason_code FROM auth.login_traces WHERE id = $1', [(await refused.textContent('#trace-id'))!]);
      expect(trace.reason_code).toBe('signature');
      await refused.context().close();

      // The refreshed metadata carries both certificates; the new key signs and is accepted.
      const refreshed = await adminApi('auth', 'POST', '/api/v1/idps/keycloak/refresh-metadata');
      expect(refreshed.idp.certificates).toHaveLength(2);
      const page = await signIn('alice', 'alice');
      expect(await sessionOf(page)).toMatchObject({ status: 200, body: { user: { username: 'alice' } } });
      await page.context().close();

      // The new key is taken out of signing (passive): Keycloak signs with the old key again, still trusted.
      await kc.components.update(
        { id: componentId },
        {
          name: 'e2e-rollover-passive',
          providerId: 'rsa-generated',
          providerType: 'org.keycloak.keys.KeyProvider',
          parentId: realm!.id,
          config: { ...keyConfig, active: ['false'] },
        },
      );
      const again = await signIn('alice', 'alice');
      expect((await sessionOf(again)).status).toBe(200);
      await again.context().close();
    } finally {
      await kc.components.del({ id: componentId });
      await adminApi('auth', 'POST', '/api/v1/idps/keycloak/refresh-metadata');
    }
  });
});
