import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { connect, JSONCodec, NatsConnection } from 'nats';
import { createTestDatabase, freePort, startNats, TestDatabase, TestNats, waitFor } from '@bridgekeeper/testing';
import { createAdminToken, ServiceName, Stack } from './support/stack';

/**
 * A revoked admin token stops working everywhere at once: auth and provisioning verify tokens at
 * the directory and cache the answer, and the directory's `directory.token.revoked` event drops it
 * from every instance's cache, so their 30 s cache is only the fallback for a missed event.
 */
describe.each(['postgres', 'sqlite'] as const)('admin token revocation on %s', (engine) => {
  let nats: TestNats;
  let pg: TestDatabase | undefined;
  let stack: Stack;
  let nc: NatsConnection;
  let admin: string;
  const revokedEvents: any[] = [];

  beforeAll(async () => {
    nats = await startNats();
    pg = engine === 'postgres' ? await createTestDatabase() : undefined;
    stack = new Stack({
      natsUrl: nats.url,
      databaseUrl: pg?.url,
      ports: { auth: await freePort(), directory: await freePort(), provisioning: await freePort() },
    });
    await stack.start();
    admin = createAdminToken({ ...(pg ? { DATABASE_URL: pg.url } : {}), DATA_DIR: stack.dataDir });
    nc = await connect({ servers: nats.url });
    nc.subscribe('directory.token.revoked', { callback: (_e, m) => revokedEvents.push(JSONCodec().decode(m.data)) });
  }, 120_000);

  afterAll(async () => {
    await nc?.close();
    await stack?.stop();
    await pg?.drop();
    await nats?.stop();
  });

  const call = async (service: ServiceName, method: string, path: string, token: string, body?: unknown) => {
    const res = await fetch(`${stack.services[service].url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json().catch(() => undefined) };
  };

  /** A read and a write on auth and on provisioning; the writes are invalid, so they change nothing (400) once let in. */
  const uses = async (token: string) => ({
    authRead: (await call('auth', 'GET', '/api/v1/idps', token)).status,
    authWrite: (await call('auth', 'POST', '/api/v1/idps', token, {})).status,
    provisioningRead: (await call('provisioning', 'GET', '/api/v1/connectors', token)).status,
    provisioningWrite: (await call('provisioning', 'POST', '/api/v1/connectors', token, {})).status,
  });

  it('is refused by auth and provisioning within a second or two, reads and writes alike, though they had cached it', async () => {
    const created = await call('directory', 'POST', '/api/v1/tokens', admin, { name: 'leaving-laptop', role: 'admin' });
    expect(created.status).toBe(201);
    const { id, token } = created.body as { id: string; token: string };
    // Used once on each: now auth and provisioning hold it in their caches.
    expect(await uses(token)).toEqual({ authRead: 200, authWrite: 400, provisioningRead: 200, provisioningWrite: 400 });

    const revokedAt = Date.now();
    expect((await call('directory', 'DELETE', `/api/v1/tokens/${id}`, admin)).body).toMatchObject({ id, revokedAt: expect.any(String) });
    expect((await call('directory', 'GET', '/api/v1/seats', token)).status).toBe(401);
    await waitFor(
      'auth and provisioning to refuse the revoked token',
      async () => {
        const now = await uses(token);
        if (!Object.values(now).every((s) => s === 401)) throw new Error(`still let in: ${JSON.stringify(now)}`);
        return now;
      },
      3000,
      100,
    );
    const took = Date.now() - revokedAt;
    expect(took).toBeLessThan(3000);

    // The event says which token, who revoked it, and nothing secret.
    await waitFor('the revocation event', async () => revokedEvents.find((e) => e.data.targetId === id));
    const event = revokedEvents.find((e) => e.data.targetId === id);
    expect(event).toMatchObject({
      source: 'directory',
      data: { targetType: 'token', targetId: id, actor: expect.stringMatching(/^admin-token:/), before: { name: 'leaving-laptop', role: 'admin' } },
    });
    // The secret is what follows `bk_<16 hex>_` (it may itself hold `_`: base64url).
    expect(JSON.stringify(event)).not.toContain(token.slice('bk_'.length + 16 + 1));
  });

  it('is refused everywhere within seconds when revoked with the CLI too (the CLI publishes the event, or the directory from its outbox)', async () => {
    const created = await call('directory', 'POST', '/api/v1/tokens', admin, { name: 'ci-runner', role: 'read-only' });
    const { id, token } = created.body as { id: string; token: string };
    expect((await call('auth', 'GET', '/api/v1/idps', token)).status).toBe(200);
    expect((await call('provisioning', 'GET', '/api/v1/connectors', token)).status).toBe(200);
    const out = execFileSync(process.execPath, [join(__dirname, '../dist/apps/directory/src/cli.js'), 'tokens', 'revoke', id], {
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent', NATS_URL: nats.url, DATA_DIR: stack.dataDir, ...(pg ? { DATABASE_URL: pg.url } : {}) },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(out).toContain(`revoked ${id}`);
    // The directory's relay reads its outbox every 5 s: what the CLI did not publish itself goes out then.
    await waitFor(
      'auth and provisioning to refuse the token revoked with the CLI',
      async () => {
        const now = [(await call('auth', 'GET', '/api/v1/idps', token)).status, (await call('provisioning', 'GET', '/api/v1/connectors', token)).status];
        if (now.some((s) => s !== 401)) throw new Error(`still let in: ${now}`);
        return true;
      },
      10_000,
      200,
    );
  });

  it('leaves every other token working', async () => {
    expect(await uses(admin)).toEqual({ authRead: 200, authWrite: 400, provisioningRead: 200, provisioningWrite: 400 });
  });
});
