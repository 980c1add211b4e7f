import type KcAdminClient from '@keycloak/keycloak-admin-client';
import { Client } from 'pg';
import { createTestDatabase, freePort, startNats, TestDatabase, TestNats, waitFor } from '@bridgekeeper/testing';
import { KEYCLOAK, keycloakAdmin } from './support/keycloak';
import { createAdminToken, ServiceProcess, Stack } from './support/stack';
import { devSyncConnector } from './support/sync-e2e';

/**
 * User Sync with two provisioning instances on one database (and one NATS, one directory): the
 * schedule is the database's on both, whichever instance a connector was changed through; each
 * tick starts one run, even when one instance's timer fires after the other's run ended; a
 * disabled or deleted connector runs nowhere. And a connector is saved only as it can work.
 * Instances are paused with SIGSTOP to tell which one ran (or to make a timer fire late).
 */
const tag = Math.random().toString(36).slice(2, 7);
const root = `si-${tag}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('User Sync on two provisioning instances', () => {
  let nats: TestNats;
  let pg: TestDatabase;
  let stack: Stack;
  let a: ServiceProcess;
  let b: ServiceProcess;
  let sql: Client;
  let kc: KcAdminClient;
  let token: string;
  let groupId: string;
  let userId: string;

  const api = async (via: ServiceProcess, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${via.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: text ? JSON.parse(text) : undefined };
  };
  /** Scheduled runs of connector kc started in [from, to). */
  const scheduledRuns = async (from: number, to = Date.now() + 3600_000): Promise<{ id: string; status: string; started_at: Date }[]> =>
    (
      await sql.query(
        `SELECT id, status, started_at FROM provisioning.sync_runs WHERE connector_id = 'kc' AND trigger = 'schedule' AND started_at >= $1 AND started_at < $2 ORDER BY started_at`,
        [new Date(from), new Date(to)],
      )
    ).rows;
  const pause = (p: ServiceProcess) => process.kill(p.pid!, 'SIGSTOP');
  const resume = (p: ServiceProcess) => process.kill(p.pid!, 'SIGCONT');
  /** The next time (ms) the wall clock is at a multiple of `seconds`, at least `margin` ms away. */
  const nextTick = (seconds: number, margin: number) => {
    const step = seconds * 1000;
    let t = Math.ceil(Date.now() / step) * step;
    if (t - Date.now() < margin) t += step;
    return t;
  };
  const until = (t: number) => sleep(Math.max(0, t - Date.now()));

  beforeAll(async () => {
    await waitFor('Keycloak (scripts/keycloak.sh start)', async () => (await fetch(`${KEYCLOAK}/realms/bridgekeeper`)).ok, 10_000, 500);
    kc = await keycloakAdmin();
    groupId = (await kc.groups.create({ name: root })).id;
    userId = (
      await kc.users.create({
        username: `${root}-u1`,
        email: `${root}-u1@example.com`,
        firstName: 'U1',
        lastName: 'Instances',
        enabled: true,
        emailVerified: true,
      })
    ).id;
    await kc.users.addToGroup({ id: userId, groupId });

    nats = await startNats();
    pg = await createTestDatabase();
    const ports = { auth: await freePort(), directory: await freePort(), provisioning: await freePort() };
    // The reconcile (safety net) is slow here: what is tested is that a change reaches the other instance at once.
    const provisioningEnv = { PROVISIONING_MODELS: 'keycloak=sync', PROVISIONING_SCHEDULE_RECONCILE_MS: '600000' };
    stack = new Stack({ natsUrl: nats.url, databaseUrl: pg.url, ports, extraEnv: { provisioning: provisioningEnv } });
    await stack.start();
    a = stack.services.provisioning;
    const portB = await freePort();
    b = new ServiceProcess('provisioning', portB, {
      NATS_URL: nats.url,
      DATA_DIR: stack.dataDir,
      DATABASE_URL: pg.url,
      PROVISIONING_PORT: String(portB),
      ...provisioningEnv,
    });
    await b.start();
    token = createAdminToken({ DATABASE_URL: pg.url, DATA_DIR: stack.dataDir });
    sql = new Client({ connectionString: pg.url });
    await sql.connect();
  }, 180_000);

  afterAll(async () => {
    for (const p of [a, b]) if (p?.pid) process.kill(p.pid, 'SIGCONT');
    if (process.env.DEBUG_STACK) for (const p of [a, b]) console.log(p?.output.slice(-4000));
    await kc?.users.del({ id: userId }).catch(() => undefined);
    if (groupId) await kc?.groups.del({ id: groupId }).catch(() => undefined);
    await sql?.end();
    await b?.stop();
    await stack?.stop();
    await pg?.drop();
    await nats?.stop();
  });

  it('saves a connector only as it can work: its IdP, realm, secret and required groups are checked, nothing is stored otherwise', async () => {
    const refused = async (over: Record<string, unknown>, field: string, message: RegExp) => {
      const res = await api(a, 'POST', '/api/v1/connectors', devSyncConnector(root, { id: 'bad', attributes: [], ...over }));
      expect(res).toMatchObject({
        status: 422,
        type: expect.stringContaining('application/problem+json'),
        body: { errors: expect.arrayContaining([{ field, message: expect.stringMatching(message) }]) },
      });
      expect(res.body.detail).toMatch(message);
    };
    await refused({ idp: 'no-such-idp' }, 'idp', /no identity provider no-such-idp/);
    await refused({ clientSecret: 'wrong' }, 'clientSecret', /refused the client credentials of bridgekeeper-sync/);
    await refused({ realm: 'no-such-realm' }, 'realm', /realm no-such-realm was not found .*Realm does not exist/);
    await refused({ requiredGroups: [`/${root}`, `/${root}-typo`] }, 'requiredGroups', new RegExp(`no group /${root}-typo\\b`));
    expect((await api(a, 'GET', '/api/v1/connectors')).body).toEqual([]);
    expect((await api(a, 'GET', '/api/v1/audit?targetType=connector')).body.items).toEqual([]);

    // A new connector's default schedule is hourly, and the answer says so.
    const created = await api(a, 'POST', '/api/v1/connectors', { ...devSyncConnector(root, { id: 'hourly', attributes: [] }), schedule: undefined });
    expect(created).toMatchObject({ status: 201, body: { id: 'hourly', schedule: '0 * * * *', changesSchedule: '', enabled: true } });
    // A change is checked like a new connector; what it would break is not stored.
    expect(await api(b, 'PATCH', '/api/v1/connectors/hourly', { clientSecret: 'wrong' })).toMatchObject({
      status: 422,
      body: { errors: [{ field: 'clientSecret' }] },
    });
    expect(await api(b, 'PATCH', '/api/v1/connectors/hourly', { requiredGroups: ['/no-such-group-anywhere'] })).toMatchObject({
      status: 422,
      body: { errors: [{ field: 'requiredGroups' }] },
    });
    expect(await api(b, 'POST', '/api/v1/connectors/hourly/test')).toMatchObject({ status: 200, body: { ok: true } });
    expect((await api(b, 'GET', '/api/v1/connectors/hourly')).body.requiredGroups).toEqual([`/${root}`]);
    // Settings that do not touch Keycloak are saved without asking it.
    expect(await api(b, 'PATCH', '/api/v1/connectors/hourly', { schedule: '', enabled: false })).toMatchObject({
      status: 200,
      body: { schedule: '', enabled: false },
    });
    expect((await api(a, 'DELETE', '/api/v1/connectors/hourly')).status).toBe(204);
  }, 60_000);

  it('schedules a connector created through one instance on the other at once', async () => {
    const created = await api(a, 'POST', '/api/v1/connectors', devSyncConnector(root, { attributes: [], schedule: '*/10 * * * * *' }));
    expect(created).toMatchObject({ status: 201, body: { schedule: '*/10 * * * * *' } });
    const since = Date.now();
    pause(a);
    try {
      // Only b can start it: a is stopped.
      await waitFor('a scheduled run started by the other instance', async () => (await scheduledRuns(since)).length > 0, 15_000, 250);
    } finally {
      resume(a);
    }
  }, 30_000);

  it('starts each tick once, even when one instance fires it after the other instance’s run ended', async () => {
    const t = nextTick(10, 2500);
    await until(t - 1500);
    pause(b); // b's timer for tick t fires only once b runs again
    try {
      await until(t + 1000);
      // a ran tick t; wait for that run to end, so the run lock is free when b's timer fires.
      const ran = await waitFor(
        'a to run tick t',
        async () => {
          const runs = await scheduledRuns(t - 500, t + 5000);
          return runs.length && runs.every((r) => r.status !== 'running') ? runs : null;
        },
        7_000,
        100,
      );
      expect(ran).toHaveLength(1);
    } finally {
      resume(b);
    }
    await until(t + 8500); // b's late timer fired (before tick t + 10 s)
    expect(await scheduledRuns(t - 500, t + 9000)).toHaveLength(1);
    // Every scheduled run names its tick, and no tick has two.
    const ticks = (await sql.query(`SELECT scheduled_for, count(*)::int AS n FROM provisioning.sync_runs WHERE trigger = 'schedule' GROUP BY scheduled_for`))
      .rows;
    expect(ticks.every((r) => r.scheduled_for !== null && r.n === 1)).toBe(true);
  }, 30_000);

  it('follows a schedule change and a disable made through the other instance; a disabled connector never runs', async () => {
    expect(await api(a, 'PATCH', '/api/v1/connectors/kc', { schedule: '*/2 * * * * *' })).toMatchObject({ status: 200 });
    const since = Date.now() + 200;
    pause(a);
    try {
      await sleep(5200); // b alone: two or three ticks of the new schedule, none of the old one's
      expect((await scheduledRuns(since)).length).toBeGreaterThanOrEqual(2);
    } finally {
      resume(a);
    }

    expect(await api(a, 'PATCH', '/api/v1/connectors/kc', { enabled: false })).toMatchObject({ status: 200, body: { enabled: false } });
    const disabledAt = Date.now();
    await waitFor(
      'runs started before the disable to end',
      async () => (await scheduledRuns(disabledAt - 5000)).every((r) => r.status !== 'running'),
      20_000,
      200,
    );
    await sleep(5000);
    expect(await scheduledRuns(disabledAt + 300)).toEqual([]);
    // Nor on demand, through either instance: a clear 409 that starts nothing.
    for (const via of [a, b]) {
      expect(await api(via, 'POST', '/api/v1/connectors/kc/sync')).toMatchObject({
        status: 409,
        type: expect.stringContaining('application/problem+json'),
        body: { detail: expect.stringContaining('connector kc is disabled') },
      });
    }
    expect((await sql.query(`SELECT count(*)::int AS n FROM provisioning.sync_runs WHERE started_at > $1`, [new Date(disabledAt + 300)])).rows[0].n).toBe(0);
  }, 40_000);

  it('stops scheduling a connector deleted through the other instance, without logging about it', async () => {
    expect(await api(b, 'PATCH', '/api/v1/connectors/kc', { enabled: true })).toMatchObject({ status: 200 });
    const enabledAt = Date.now();
    await waitFor('the schedule to run again', async () => (await scheduledRuns(enabledAt)).length > 0, 10_000, 200);
    const logged = b.output.length;
    expect((await api(a, 'DELETE', '/api/v1/connectors/kc')).status).toBe(204);
    const deletedAt = Date.now();
    await sleep(5000);
    expect(await scheduledRuns(deletedAt + 300)).toEqual([]);
    expect(b.output.slice(logged) + a.output).not.toMatch(/no connector/);
  }, 30_000);
});
