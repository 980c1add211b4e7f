import { freePort, startNats, TestNats } from '@bridgekeeper/testing';
import { generateSigningKeyPair } from '@bridgekeeper/saml';
import { createAdminToken, Stack } from './support/stack';

/**
 * The public routes that write on every call (a login start leaves a login state and a trace; an
 * IdP's answer, refused or not, leaves a trace) share one budget per client address
 * (AUTH_LOGIN_RATE_LIMIT_PER_MINUTE), so nobody fills auth's database from outside; the checks
 * applications make on every request, health and the admin API are not charged to it.
 */
describe('the login rate limit (embedded SQLite)', () => {
  const LIMIT = 5;
  let nats: TestNats;
  let stack: Stack;
  let base: string;
  let admin: string;

  beforeAll(async () => {
    nats = await startNats();
    const ports = { auth: await freePort(), directory: await freePort(), provisioning: await freePort() };
    stack = new Stack({ natsUrl: nats.url, ports, extraEnv: { auth: { AUTH_LOGIN_RATE_LIMIT_PER_MINUTE: String(LIMIT) } } });
    await stack.start();
    base = stack.services.auth.url;
    admin = createAdminToken({ DATA_DIR: stack.dataDir });
    const keys = await generateSigningKeyPair('test idp');
    const idp = 'https://idp.example.com/realms/test';
    const created = await fetch(`${base}/api/v1/idps`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'test', name: 'Test', manual: { entityId: idp, ssoUrl: `${idp}/protocol/saml`, certificates: [keys.certificatePem] } }),
    });
    expect(created.status).toBe(201);
  });

  afterAll(async () => {
    await stack?.stop();
    await nats?.stop();
  });

  it('answers 429 once a client has started and answered logins LIMIT times a minute, all routes together', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(`${base}/login?idp=test`, { redirect: 'manual' })).status);
    for (let i = 0; i < 2; i++) {
      statuses.push(
        (
          await fetch(`${base}/saml/test/acs`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: 'SAMLResponse=PGZvbz4%3D',
          })
        ).status,
      );
    }
    statuses.push((await fetch(`${base}/login?idp=test`, { redirect: 'manual' })).status);
    statuses.push((await fetch(`${base}/oidc/test/callback?state=x`, { redirect: 'manual' })).status);
    expect(statuses).toEqual([302, 302, 302, 400, 400, 429, 429]);
    const traces = await (await fetch(`${base}/api/v1/login-traces?limit=100`, { headers: { authorization: `Bearer ${admin}` } })).json();
    expect(traces.items).toHaveLength(LIMIT);
  });

  it('does not charge the session checks, health or the admin API to it', async () => {
    for (let i = 0; i < LIMIT + 2; i++) {
      expect((await fetch(`${base}/auth/verify`)).status).toBe(401);
      expect((await fetch(`${base}/session`)).status).toBe(401);
      expect((await fetch(`${base}/health/live`)).status).toBe(200);
      expect((await fetch(`${base}/api/v1/idps`, { headers: { authorization: `Bearer ${admin}` } })).status).toBe(200);
    }
  });
});
