import { verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { join } from 'node:path';
import { Client } from 'pg';
import { hashPassword } from '@bridgekeeper/platform';
import { createTestDatabase, freePort, startNats, TestDatabase, TestNats } from '@bridgekeeper/testing';
import { createAdminToken, Stack } from './support/stack';

/** IdP management on auth's admin API, with metadata served by a local HTTP server (no Keycloak needed). */
const BREAK_GLASS_PASSWORD = 'only-when-keycloak-is-down';

describe('IdP management', () => {
  const xml = readFileSync(join(__dirname, '../libs/saml/src/__fixtures__/keycloak-idp-metadata.xml'), 'utf8');
  const cert = /<ds:X509Certificate>([^<]+)</.exec(xml)![1];
  let nats: TestNats;
  let pg: TestDatabase;
  let stack: Stack;
  let metadataServer: Server;
  let metadataUrl: string;
  let failing = false;
  let admin: string;
  let reader: string;

  const call = async (method: string, path: string, body?: unknown, token: string | null = admin) => {
    const res = await fetch(`${stack.services.auth.url}${path}`, {
      method,
      redirect: 'manual',
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: res.status, body: json, headers: res.headers };
  };

  beforeAll(async () => {
    const port = await freePort();
    metadataServer = createServer((_req, res) => {
      if (failing) return void res.writeHead(500).end('down');
      res.writeHead(200, { 'content-type': 'application/samlmetadata+xml' }).end(xml);
    }).listen(port, '127.0.0.1');
    metadataUrl = `http://127.0.0.1:${port}/realms/corp/protocol/saml/descriptor`;
    nats = await startNats();
    pg = await createTestDatabase();
    stack = new Stack({
      natsUrl: nats.url,
      databaseUrl: pg.url,
      ports: { auth: await freePort(), directory: await freePort(), provisioning: await freePort() },
      extraEnv: { auth: { AUTH_BREAK_GLASS_USERNAME: 'root-admin', AUTH_BREAK_GLASS_PASSWORD_HASH: hashPassword(BREAK_GLASS_PASSWORD) } },
    });
    await stack.start('directory', 'auth');
    admin = createAdminToken({ DATABASE_URL: pg.url, DATA_DIR: stack.dataDir });
    reader = createAdminToken({ DATABASE_URL: pg.url, DATA_DIR: stack.dataDir }, 'read-only');
  });

  afterAll(async () => {
    await stack?.stop();
    await pg?.drop();
    await nats?.stop();
    metadataServer?.close();
  });

  it('keeps IdP management behind admin tokens', async () => {
    expect((await call('GET', '/api/v1/idps', undefined, null)).status).toBe(401);
    expect((await call('GET', '/api/v1/idps', undefined, reader)).status).toBe(200);
    expect((await call('POST', '/api/v1/idps', { id: 'x', name: 'X', metadataXml: xml }, reader)).status).toBe(403);
  });

  it('adds an IdP from its metadata URL, with SP URLs and certificate expiry', async () => {
    const r = await call('POST', '/api/v1/idps', { id: 'corp', name: 'Corp SSO', metadataUrl, emailDomains: ['corp.example.com'] });
    expect(r).toMatchObject({
      status: 201,
      body: {
        id: 'corp',
        binding: 'HTTP-Redirect',
        metadataError: null,
        idp: {
          entityId: 'http://localhost:8080/realms/bridgekeeper',
          ssoRedirectUrl: expect.stringContaining('/protocol/saml'),
          certificates: [{ status: 'valid', daysLeft: expect.any(Number) }],
        },
        sp: {
          entityId: `http://localhost:${stack.services.auth.port}/saml/corp/metadata`,
          acsUrl: `http://localhost:${stack.services.auth.port}/saml/corp/acs`,
        },
      },
    });
    const sp = await call('GET', '/saml/corp/metadata', undefined, null);
    expect(sp.body).toContain(`Location="http://localhost:${stack.services.auth.port}/saml/corp/acs"`);
  });

  it('keeps the last good metadata when a refresh fails, and says why', async () => {
    failing = true;
    const r = await call('POST', '/api/v1/idps/corp/refresh-metadata');
    expect(r.body).toMatchObject({
      metadataError: expect.stringContaining('answered HTTP 500'),
      idp: { entityId: 'http://localhost:8080/realms/bridgekeeper' },
    });
    const metrics = await (await fetch(`${stack.services.auth.url}/metrics`)).text();
    expect(metrics).toContain('bridgekeeper_idp_metadata_refresh_failing{idp="corp",service="auth"} 1');
    expect(metrics).toMatch(/bridgekeeper_idp_certificate_days_left\{idp="corp",service="auth"\} \d+/);
    failing = false;
    expect((await call('POST', '/api/v1/idps/corp/refresh-metadata')).body.metadataError).toBeNull();
  });

  it('adds IdPs from pasted XML or by hand, and refuses bad metadata naming the problem', async () => {
    expect((await call('POST', '/api/v1/idps', { id: 'pasted', name: 'Pasted', metadataXml: xml })).status).toBe(201);
    const manual = await call('POST', '/api/v1/idps', {
      id: 'manual',
      name: 'Manual',
      enabled: false,
      manual: {
        entityId: 'urn:manual',
        ssoUrl: 'https://idp.example.com/sso',
        certificates: [`-----BEGIN CERTIFICATE-----\n${cert}\n-----END CERTIFICATE-----`],
      },
    });
    expect(manual).toMatchObject({ status: 201, body: { idp: { entityId: 'urn:manual', certificates: [{ status: 'valid' }] } } });
    expect(
      (
        await call('POST', '/api/v1/idps', {
          id: 'bad',
          name: 'Bad',
          manual: { entityId: 'urn:x', ssoUrl: 'https://x.example.com', certificates: ['A'.repeat(200)] },
        })
      ).body,
    ).toMatchObject({ status: 400, detail: expect.stringContaining('not a valid X.509') });
    expect((await call('POST', '/api/v1/idps', { id: 'dtd', name: 'DTD', metadataXml: `<!DOCTYPE x>${xml}` })).body.detail).toContain('DTD');
    expect((await call('POST', '/api/v1/idps', { id: 'two', name: 'Two', metadataXml: xml, metadataUrl })).body.detail).toContain('only one of');
    expect((await call('POST', '/api/v1/idps', { id: 'corp', name: 'Again', metadataXml: xml })).status).toBe(409);
    // Source names that are not IdPs: an IdP called `local` would own every local user and group.
    for (const id of ['local', 'break-glass'])
      expect((await call('POST', '/api/v1/idps', { id, name: id, metadataXml: xml })).body).toMatchObject({
        status: 400,
        detail: expect.stringContaining('reserved'),
      });
  });

  it('shows the chooser for several IdPs, routes by email domain, hides disabled ones', async () => {
    const chooser = await call('GET', '/login', undefined, null);
    expect(chooser.status).toBe(200);
    expect(chooser.body).toContain('Sign in with Corp SSO');
    expect(chooser.body).toContain('Sign in with Pasted');
    expect(chooser.body).not.toContain('Sign in with Manual');
    const routed = await call('GET', '/login?login_hint=ann@corp.example.com', undefined, null);
    expect(routed.status).toBe(302);
    expect(routed.headers.get('location')).toMatch(/^http:\/\/localhost:8080\/realms\/bridgekeeper\/protocol\/saml\?SAMLRequest=/);
    expect(routed.headers.get('set-cookie')).toContain('bk_last_idp=corp');
    const unknown = await call('GET', '/login?login_hint=ann@elsewhere.example.com', undefined, null);
    expect(unknown.body).toContain('No sign-in is set up for elsewhere.example.com');
    expect((await call('GET', '/login?idp=manual', undefined, null)).status).toBe(404);
  });

  it("traces a login's start with its request, and a refused start with the reason", async () => {
    const sql = new Client({ connectionString: pg.url });
    await sql.connect();
    const rows = async (query: string, params: unknown[]) => (await sql.query(query, params)).rows;
    const started = await call('GET', '/login?idp=corp&returnTo=/session', undefined, null);
    expect(started.status).toBe(302);
    const relayState = new URL(started.headers.get('location')!).searchParams.get('RelayState');
    const [state] = await rows(`SELECT trace_id, request_id, return_to FROM auth.login_states WHERE relay_state = $1`, [relayState]);
    expect(state).toMatchObject({ return_to: '/session', request_id: expect.stringMatching(/^_/) });
    const trace = await call('GET', `/api/v1/login-traces/${state.trace_id}`);
    expect(trace.body).toMatchObject({ idp: 'corp', protocol: 'saml', status: 'started', completedAt: null });
    expect(trace.body.steps.map((s: { step: string }) => s.step)).toEqual(['login.started', 'saml.authn-request']);
    expect(trace.body.messages.request).toContain(`ID="${state.request_id}"`);

    const refused = await call('GET', `/login?idp=corp&returnTo=${encodeURIComponent('https://evil.example.com/')}`, undefined, null);
    expect(refused.status).toBe(400);
    const traceId = /id="trace-id">([^<]+)</.exec(refused.body)![1];
    const failed = await call('GET', `/api/v1/login-traces/${traceId}`);
    expect(failed.body).toMatchObject({ status: 'failed', reasonCode: 'return_to_refused', reason: expect.stringContaining('evil.example.com') });
    expect(failed.body.steps.map((s: { step: string }) => s.step)).toEqual(['login.started', 'failed']);
    expect(await rows(`SELECT 1 FROM auth.login_states WHERE trace_id = $1`, [traceId])).toEqual([]);
    await sql.end();
  });

  it('audits every change', async () => {
    await call('PATCH', '/api/v1/idps/pasted', { name: 'Pasted IdP', binding: 'HTTP-POST' });
    await call('DELETE', '/api/v1/idps/pasted');
    const audit = await call('GET', '/api/v1/audit?targetType=idp&targetId=pasted');
    expect(audit.body.items.map((a: { action: string }) => a.action)).toEqual(['idp.deleted', 'idp.updated', 'idp.created']);
    expect(audit.body.items[1]).toMatchObject({ before: { name: 'Pasted', binding: 'HTTP-Redirect' }, after: { name: 'Pasted IdP', binding: 'HTTP-POST' } });
  });

  it('lets the configured local admin break glass with a password: audited and rate limited', async () => {
    const form = (password: string) =>
      fetch(`${stack.services.auth.url}/break-glass`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ username: 'root-admin', password }),
      });
    expect((await call('GET', '/break-glass', undefined, null)).status).toBe(200);
    expect((await form('wrong')).status).toBe(401);
    // Not in the directory yet: refused even with the right password.
    expect((await form(BREAK_GLASS_PASSWORD)).status).toBe(403);
    const dir = await fetch(`${stack.services.directory.url}/api/v1/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'root-admin', protected: true }),
    });
    expect(dir.status).toBe(201);
    const ok = await form(BREAK_GLASS_PASSWORD);
    expect(ok.status).toBe(303);
    const cookie = ok.headers.get('set-cookie')!.split(';')[0];
    const session = await fetch(`${stack.services.auth.url}/session`, { headers: { cookie } });
    expect(await session.json()).toMatchObject({ user: { username: 'root-admin' }, idp: 'break-glass' });
    const audit = await call('GET', '/api/v1/audit?targetType=user&targetId=root-admin');
    expect(audit.body.items.map((a: { action: string }) => a.action)).toEqual(['break-glass.signed-in', 'break-glass.refused', 'break-glass.refused']);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await form('guess')).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
  });

  it('caps POST bodies before any SAML parsing', async () => {
    const big = `SAMLResponse=${'A'.repeat(600 * 1024)}`;
    const res = await fetch(`${stack.services.auth.url}/saml/corp/acs`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: big,
    });
    expect(res.status).toBe(413);
  });

  it('rotates SP keys in two steps: the next signing certificate is published before it signs', async () => {
    const signingCerts = async () => {
      const xml = (await call('GET', '/saml/corp/metadata', undefined, null)).body as string;
      return [...xml.matchAll(/<KeyDescriptor use="signing">[\s\S]*?<ds:X509Certificate>([^<]+)</g)].map((m) => m[1].replace(/\s+/g, ''));
    };
    const before = await signingCerts();
    expect(before).toHaveLength(1);
    expect((await call('POST', '/api/v1/idps/corp/sp-keys/activate')).status).toBe(409);
    const staged = await call('POST', '/api/v1/idps/corp/sp-keys/rotate');
    expect(staged.body.map((k: { use: string; status: string }) => `${k.use}:${k.status}`).sort()).toEqual([
      'encryption:active',
      'encryption:pending',
      'signing:active',
      'signing:pending',
    ]);
    const during = await signingCerts();
    expect(during).toHaveLength(2);
    expect(during[0]).toBe(before[0]);
    const activated = await call('POST', '/api/v1/idps/corp/sp-keys/activate');
    expect(activated.body.filter((k: { status: string }) => k.status === 'retired')).toHaveLength(2);
    const after = await signingCerts();
    expect(after).toEqual([during[1]]);
    // AuthnRequests are now signed with the new key.
    const login = await call('GET', '/login?idp=corp', undefined, null);
    const location = login.headers.get('location')!;
    const [signedPart, signature] = location.split('?')[1].split('&Signature=');
    const pem = `-----BEGIN CERTIFICATE-----\n${after[0].match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
    expect(verify('sha256', Buffer.from(signedPart), pem, Buffer.from(decodeURIComponent(signature), 'base64'))).toBe(true);
    const audit = await call('GET', '/api/v1/audit?targetType=idp&targetId=corp');
    expect(audit.body.items.map((a: { action: string }) => a.action).slice(0, 2)).toEqual(['idp.sp-keys.activated', 'idp.sp-keys.staged']);
    expect(JSON.stringify(staged.body)).not.toContain('PRIVATE');
  });
});
