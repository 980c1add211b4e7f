import { createServer, Server, Socket } from 'node:net';
import type KcAdminClient from '@keycloak/keycloak-admin-client';
import { createTestDatabase, freePort, startNats, TestDatabase, TestNats, waitFor } from '@bridgekeeper/testing';
import { KEYCLOAK, keycloakAdmin } from './support/keycloak';
import { createAdminToken, Stack } from './support/stack';
import { adminCall, devSyncConnector, syncRun, waitForRun } from './support/sync-e2e';

/**
 * Held User Sync runs against the real Keycloak, through the HTTP APIs of the whole stack on both
 * engines: an approval applies exactly the plan the run shows (never a new read of Keycloak), once,
 * quoting the plan's digest; it is refused (409, nothing applied) when the run has no plan
 * (Keycloak timed out), a newer run superseded it, or the directory moved on since the plan.
 * The safety share counts only the active users a plan removes.
 */
const run = Math.random().toString(36).slice(2, 7);

describe.each(['postgres', 'sqlite'] as const)('held User Sync runs on %s', (engine) => {
  const root = `held-${run}-${engine}`;
  const name = (n: string) => `${root}-${n}`;
  let nats: TestNats;
  let pg: TestDatabase | undefined;
  let stack: Stack;
  let kc: KcAdminClient;
  let token: string;
  let rootGroup: string;
  const ids: Record<string, string> = {};

  const call = adminCall(() => ({ stack, token }));
  const api = (method: string, path: string, body?: unknown) => call('provisioning', method, path, body);
  const getRun = async (id: string) => (await api('GET', `/api/v1/sync-runs/${id}`)).body;
  const ended = (id: string) => waitForRun(call, id);
  const syncNow = () => syncRun(call);
  const approve = (id: string, planDigest?: string) => api('POST', `/api/v1/sync-runs/${id}/approve`, planDigest === undefined ? undefined : { planDigest });
  /** The connector's users in the directory: username → active. */
  const directory = async (): Promise<Record<string, boolean>> => {
    const page = await call('directory', 'GET', '/api/v1/users?source=kc&limit=100');
    expect(page.status).toBe(200);
    return Object.fromEntries((page.body.items as { username: string; active: boolean }[]).map((u) => [u.username, u.active]));
  };
  const active = async () =>
    Object.entries(await directory())
      .filter(([, a]) => a)
      .map(([u]) => u)
      .sort();
  const directoryId = async (username: string) =>
    (await call('directory', 'GET', `/api/v1/users?source=kc&q=${encodeURIComponent(username)}`)).body.items.find(
      (u: { username: string }) => u.username === username,
    ).id as string;
  const approvals = async (heldId: string) =>
    ((await api('GET', `/api/v1/audit?targetType=sync-run&targetId=${heldId}`)).body.items as { action: string; actor: string }[]).filter(
      (a) => a.action === 'sync-run.approved',
    );
  const approvalRuns = async () =>
    ((await api('GET', '/api/v1/sync-runs?connectorId=kc&limit=100')).body.items as { trigger: string }[]).filter((r) => r.trigger === 'approval');

  beforeAll(async () => {
    await waitFor('Keycloak (scripts/keycloak.sh start)', async () => (await fetch(`${KEYCLOAK}/realms/bridgekeeper`)).ok, 10_000, 500);
    kc = await keycloakAdmin();
    rootGroup = (await kc.groups.create({ name: root })).id;
    for (const n of ['h1', 'h2', 'h3', 'h4', 'h5', 'h6']) {
      ids[n] = (
        await kc.users.create({
          username: name(n),
          email: `${name(n)}@example.com`,
          firstName: n.toUpperCase(),
          lastName: 'Held',
          enabled: true,
          emailVerified: true,
        })
      ).id;
      await kc.users.addToGroup({ id: ids[n], groupId: rootGroup });
    }
    nats = await startNats();
    pg = engine === 'postgres' ? await createTestDatabase() : undefined;
    const ports = { auth: await freePort(), directory: await freePort(), provisioning: await freePort() };
    stack = new Stack({ natsUrl: nats.url, databaseUrl: pg?.url, ports, extraEnv: { provisioning: { PROVISIONING_KEYCLOAK_TIMEOUT_MS: '5000' } } });
    await stack.start();
    token = createAdminToken({ ...(pg ? { DATABASE_URL: pg.url } : {}), DATA_DIR: stack.dataDir });
    const created = await api('POST', '/api/v1/connectors', devSyncConnector(root, { attributes: [], maxRemovalShare: 0.25 }));
    expect(created.status).toBe(201);
    expect(await syncNow()).toMatchObject({ status: 'applied', counts: { usersCreated: 6 } });
  }, 120_000);

  afterAll(async () => {
    if (process.env.DEBUG_STACK) for (const s of Object.values(stack.services)) console.log(s.name, s.output.slice(-4000));
    for (const id of Object.values(ids)) await kc?.users.del({ id }).catch(() => undefined);
    if (rootGroup) await kc?.groups.del({ id: rootGroup }).catch(() => undefined);
    await stack?.stop();
    await pg?.drop();
    await nats?.stop();
  });

  it('applies exactly the plan it showed when more users were disabled in Keycloak after it was held, once, audited with the approver', async () => {
    await kc.users.update({ id: ids.h1 }, { enabled: false });
    await kc.users.update({ id: ids.h2 }, { enabled: false });
    const held = await syncNow();
    expect(held).toMatchObject({ status: 'held', reason: expect.stringContaining('would disable or delete 2 of 6 active users') });
    expect(held.plan.disable.items.map((u: { username: string }) => u.username).sort()).toEqual([name('h1'), name('h2')]);

    // Keycloak moves on: two more are disabled there. The approval must not read them.
    await kc.users.update({ id: ids.h3 }, { enabled: false });
    await kc.users.update({ id: ids.h4 }, { enabled: false });
    const approved = await approve(held.id, held.planDigest);
    expect(approved.status).toBe(202);
    const applied = await ended(approved.body.id);
    expect(await active()).toEqual([name('h3'), name('h4'), name('h5'), name('h6')]);
    expect(applied).toMatchObject({ status: 'applied', trigger: 'approval', counts: { usersDisabled: 2, usersCreated: 0 } });
    expect((await getRun(held.id)).status).toBe('approved');
    // What was shown: the plan's digest, and the whole plan as stored.
    expect(held.planDigest).toMatch(/^[0-9a-f]{64}$/);
    const shown = await api('GET', `/api/v1/sync-runs/${held.id}/plan`);
    expect(shown).toMatchObject({
      status: 200,
      body: { runId: held.id, planDigest: held.planDigest, plan: { disable: [expect.anything(), expect.anything()], create: [] } },
    });

    // Once: the run is approved now, and an applied run is no held run.
    expect(await approve(held.id, held.planDigest)).toMatchObject({ status: 409, type: expect.stringContaining('application/problem+json') });
    expect((await approve(applied.id, held.planDigest)).status).toBe(409);
    expect(await approvals(held.id)).toEqual([expect.objectContaining({ actor: expect.stringMatching(/^admin-token:/) })]);
    expect(await approvalRuns()).toHaveLength(1);
    expect(await active()).toEqual([name('h3'), name('h4'), name('h5'), name('h6')]);
  });

  it('plans the rest afresh with its own check; a newer run supersedes a held one; a plan the directory moved away from is refused and nothing applied', async () => {
    // Disabling h3 and h4 is 2 of the 4 active users: held again, by its own check.
    const first = await syncNow();
    expect(first).toMatchObject({ status: 'held', reason: expect.stringContaining('2 of 4 active users') });
    const second = await syncNow();
    expect(second).toMatchObject({ status: 'held', plan: { disable: first.plan.disable } });
    expect((await getRun(first.id)).status).toBe('superseded');
    expect(await approve(first.id, first.planDigest)).toMatchObject({ status: 409, body: { detail: expect.stringContaining('superseded') } });
    // The same plan held twice has two digests: a digest is bound to its run, and another run's is refused.
    expect(second.planDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(second.planDigest).not.toBe(first.planDigest);
    expect(await approve(second.id, first.planDigest)).toMatchObject({ status: 409, body: { detail: expect.stringContaining('digest') } });
    expect((await getRun(second.id)).status).toBe('held');

    // An admin disables h3 in the directory meanwhile: the plan was computed from another state.
    expect((await call('directory', 'POST', `/api/v1/users/${await directoryId(name('h3'))}/disable`)).status).toBeLessThan(300);
    const refused = await approve(second.id, second.planDigest);
    expect(refused).toMatchObject({
      status: 409,
      type: expect.stringContaining('application/problem+json'),
      body: { detail: expect.stringContaining('the directory changed since this plan') },
    });
    expect(await active()).toEqual([name('h4'), name('h5'), name('h6')]);
    expect((await getRun(second.id)).status).toBe('held');
    expect(await approvalRuns()).toHaveLength(1);
  });

  it('takes one of two concurrent approvals, and only with the digest of the plan shown', async () => {
    const held = await syncNow();
    expect(held).toMatchObject({ status: 'held', reason: expect.stringContaining('1 of 3 active users') });
    expect(await approve(held.id)).toMatchObject({ status: 400, type: expect.stringContaining('application/problem+json') });
    expect(await approve(held.id, 'f'.repeat(64))).toMatchObject({ status: 409, body: { detail: expect.stringContaining('digest') } });
    expect(await approvalRuns()).toHaveLength(1);
    const answers = await Promise.all([approve(held.id, held.planDigest), approve(held.id, held.planDigest)]);
    expect(answers.map((a) => a.status).sort()).toEqual([202, 409]);
    const applied = await ended(answers.find((a) => a.status === 202)!.body.id);
    expect(applied).toMatchObject({ status: 'applied', counts: { usersDisabled: 1 } });
    expect(await active()).toEqual([name('h5'), name('h6')]);
    expect(await approvals(held.id)).toHaveLength(1);
    expect(await approvalRuns()).toHaveLength(2);
  });

  it('cannot approve a run held because Keycloak timed out: it has no plan', async () => {
    // A Keycloak that accepts connections and never answers.
    const sockets = new Set<Socket>();
    const silent: Server = createServer((s) => void sockets.add(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as { port: number }).port;
      expect((await api('PATCH', '/api/v1/connectors/kc?verify=false', { baseUrl: `http://127.0.0.1:${port}` })).status).toBe(200);
      const held = await syncNow();
      expect(held).toMatchObject({ status: 'held', reason: expect.stringMatching(/nothing was applied: .*did not answer within 5000 ms/) });
      expect(await approve(held.id, 'a'.repeat(64))).toMatchObject({ status: 409, body: { detail: expect.stringContaining('without a plan') } });
      expect(held.planDigest).toBeNull();
      expect((await api('GET', `/api/v1/sync-runs/${held.id}/plan`)).status).toBe(404);
      expect((await getRun(held.id)).status).toBe('held');
      expect(await approvalRuns()).toHaveLength(2);
      expect((await api('POST', `/api/v1/sync-runs/${held.id}/discard`)).body.status).toBe('discarded');
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
      await api('PATCH', '/api/v1/connectors/kc', { baseUrl: KEYCLOAK });
    }
    expect(await active()).toEqual([name('h5'), name('h6')]);
  });

  it("measures the safety share against active users: deleting users who are already inactive takes nobody's access", async () => {
    // Four inactive users and one of the two active ones leave Keycloak: 1 of 2 active users (50%), not 5 of 2.
    expect((await api('PATCH', '/api/v1/connectors/kc', { vanished: 'delete', maxRemovalShare: 0.5 })).status).toBe(200);
    for (const n of ['h1', 'h2', 'h3', 'h4', 'h5']) {
      await kc.users.del({ id: ids[n] });
      delete ids[n];
    }
    const r = await syncNow();
    expect(r).toMatchObject({ status: 'applied', counts: { usersDeleted: 5 } });
    expect(await directory()).toEqual({ [name('h6')]: true });
  });

  it("refuses an approval, applying nothing and keeping the run held, when a name the plan creates was taken or the IdP's provisioning settings changed since the plan", async () => {
    // Keycloak: a new user, and h6 disabled (1 of 1 active users): held, the plan creates the newcomer.
    ids.c1 = (
      await kc.users.create({ username: name('c1'), email: `${name('c1')}@example.com`, firstName: 'C1', lastName: 'Held', enabled: true, emailVerified: true })
    ).id;
    await kc.users.addToGroup({ id: ids.c1, groupId: rootGroup });
    await kc.users.update({ id: ids.h6 }, { enabled: false });
    const held = await syncNow();
    expect(held).toMatchObject({
      status: 'held',
      plan: { create: { items: [expect.objectContaining({ username: name('c1') })] }, disable: { items: [expect.objectContaining({ username: name('h6') })] } },
    });
    const before = (await approvalRuns()).length;
    const localAccount = async () =>
      (await call('directory', 'GET', `/api/v1/users?q=${encodeURIComponent(name('c1'))}`)).body.items.find(
        (u: { username: string }) => u.username.toLowerCase() === name('c1'),
      );
    const untouched = async () => {
      expect((await getRun(held.id)).status).toBe('held');
      expect(await approvalRuns()).toHaveLength(before);
      expect(await directory()).toEqual({ [name('h6')]: true });
    };

    // (a) An admin creates a local account of that name and lets the IdP claim local accounts.
    const local = await call('directory', 'POST', '/api/v1/users', { username: name('c1'), email: `${name('c1')}-local@example.com`, displayName: 'Local C1' });
    expect(local.status).toBe(201);
    expect((await api('PATCH', '/api/v1/idps/keycloak/provisioning', { claimLocalUsers: true })).status).toBe(200);
    const claimed = await approve(held.id, held.planDigest);
    expect(claimed).toMatchObject({
      status: 409,
      type: expect.stringContaining('application/problem+json'),
      body: { detail: expect.stringMatching(/name.*taken|settings/) },
    });
    expect(await localAccount()).toMatchObject({
      id: local.body.id,
      source: 'local',
      externalId: null,
      email: `${name('c1')}-local@example.com`,
      displayName: 'Local C1',
    });
    await untouched();

    // (b) The settings are as planned again, the name is still taken: refused, the run stays held.
    expect((await api('PATCH', '/api/v1/idps/keycloak/provisioning', { claimLocalUsers: false })).status).toBe(200);
    const taken = await approve(held.id, held.planDigest);
    expect(taken).toMatchObject({ status: 409, body: { detail: expect.stringContaining('taken') } });
    expect(taken.body.detail).not.toContain('settings');
    expect(await localAccount()).toMatchObject({ id: local.body.id, source: 'local' });
    await untouched();

    // A local account whose name only looks like it ("1" and "l", Unicode TR 39) takes it too.
    expect((await call('directory', 'DELETE', `/api/v1/users/${local.body.id}`)).status).toBeLessThan(300);
    const lookalike = await call('directory', 'POST', '/api/v1/users', { username: name('cl'), displayName: 'Local Cl' });
    expect(lookalike.status).toBe(201);
    expect(await approve(held.id, held.planDigest)).toMatchObject({ status: 409, body: { detail: expect.stringContaining('taken') } });
    await untouched();

    // (c) The name is free again, the settings changed: refused.
    expect((await call('directory', 'DELETE', `/api/v1/users/${lookalike.body.id}`)).status).toBeLessThan(300);
    expect((await api('PATCH', '/api/v1/idps/keycloak/provisioning', { grantLocalGroups: [`${root}-granted`] })).status).toBe(200);
    const changed = await approve(held.id, held.planDigest);
    expect(changed).toMatchObject({ status: 409, body: { detail: expect.stringContaining('settings') } });
    expect(changed.body.detail).not.toContain('taken');
    await untouched();

    // Everything as it was planned: the plan applies, exactly.
    expect((await api('PATCH', '/api/v1/idps/keycloak/provisioning', { grantLocalGroups: [] })).status).toBe(200);
    const approved = await approve(held.id, held.planDigest);
    expect(approved.status).toBe(202);
    expect(await ended(approved.body.id)).toMatchObject({ status: 'applied', counts: { usersCreated: 1, usersDisabled: 1 } });
    expect(await directory()).toEqual({ [name('c1')]: true, [name('h6')]: false });
    expect((await getRun(held.id)).status).toBe('approved');
  });

  it('a discard and an approval of the same held run: one of them wins, the other is refused, and the run shows the winner', async () => {
    await kc.users.update({ id: ids.c1 }, { enabled: false });
    const held = await syncNow();
    expect(held).toMatchObject({ status: 'held', reason: expect.stringContaining('1 of 1 active users') });
    const before = (await approvalRuns()).length;
    const [approval, discard] = await Promise.all([approve(held.id, held.planDigest), api('POST', `/api/v1/sync-runs/${held.id}/discard`)]);
    expect([approval.status, discard.status].sort()).toEqual(approval.status === 202 ? [202, 409] : [200, 409]);
    const audit = ((await api('GET', `/api/v1/audit?targetType=sync-run&targetId=${held.id}`)).body.items as { action: string }[]).map((a) => a.action);
    if (approval.status === 202) {
      expect(await ended(approval.body.id)).toMatchObject({ status: 'applied', counts: { usersDisabled: 1 } });
      expect((await getRun(held.id)).status).toBe('approved');
      expect(audit).toEqual(['sync-run.approved']);
      expect(await directory()).toEqual({ [name('c1')]: false, [name('h6')]: false });
    } else {
      expect(discard.body.status).toBe('discarded');
      expect((await getRun(held.id)).status).toBe('discarded');
      expect(audit).toEqual(['sync-run.discarded']);
      expect(await approvalRuns()).toHaveLength(before);
      expect(await directory()).toEqual({ [name('c1')]: true, [name('h6')]: false });
    }
    // Either way the run is no longer held: neither may act on it again.
    expect((await approve(held.id, held.planDigest)).status).toBe(409);
    expect((await api('POST', `/api/v1/sync-runs/${held.id}/discard`)).status).toBe(409);
  });
});
