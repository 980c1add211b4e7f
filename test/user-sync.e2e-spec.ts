import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type KcAdminClient from '@keycloak/keycloak-admin-client';
import { connect, JSONCodec } from 'nats';
import { Client } from 'pg';
import { createEvent, SyncRequestedV1 } from '@bridgekeeper/contracts';
import { KeycloakConnector } from '@bridgekeeper/keycloak';
import { createTestDatabase, freePort, saveAdminEventsFor, startNats, TestDatabase, TestNats, waitFor } from '@bridgekeeper/testing';
import { KEYCLOAK, keycloakAdmin, launchChromium } from './support/keycloak';
import { createAdminToken, Stack } from './support/stack';

/**
 * User Sync against the real Keycloak: users and nested groups are seeded through its Admin API
 * under a group of this run's own (the connector syncs only that group), synced, changed, synced
 * again, and compared with the directory field by field.
 */
const ROOT = join(__dirname, '..');
const run = Math.random().toString(36).slice(2, 7);
const root = `st-${run}`;
const name = (n: string) => `${root}-${n}`;

describe('User Sync from the real Keycloak', () => {
  let nats: TestNats;
  let pg: TestDatabase;
  let stack: Stack;
  let sql: Client;
  let kc: KcAdminClient;
  let token: string;
  let base: string;
  const ids: Record<string, string> = {};
  const groupIds: Record<string, string> = {};

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${stack.services.provisioning.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json().catch(() => undefined)) as any };
  };
  const syncNow = async (query = '') => {
    const started = await api('POST', `/api/v1/connectors/kc/sync${query}`);
    expect(started.status).toBe(202);
    return waitFor(
      'the sync run to end',
      async () => {
        const r = (await api('GET', `/api/v1/sync-runs/${started.body.id}`)).body;
        return r.status !== 'running' ? r : null;
      },
      60_000,
      200,
    );
  };
  const directoryUsers = async () =>
    (
      await sql.query(
        `SELECT u.username, u.email, u.display_name, u.active, u.external_id,
                COALESCE((SELECT string_agg(g.name, ',' ORDER BY g.name) FROM directory.memberships m JOIN directory.groups g ON g.id = m.group_id WHERE m.user_id = u.id), '') AS groups,
                (SELECT p.value FROM directory.user_properties p WHERE p.user_id = u.id AND p.key = 'department') AS department
           FROM directory.users u WHERE u.source = 'kc' ORDER BY u.username`,
      )
    ).rows;

  beforeAll(async () => {
    await waitFor('Keycloak (scripts/keycloak.sh start)', async () => (await fetch(`${KEYCLOAK}/realms/bridgekeeper`)).ok, 10_000, 500);
    kc = await keycloakAdmin();
    // Custom attributes reach the Admin API only with the realm's unmanaged-attribute policy on.
    const profile = await kc.users.getProfile();
    if (profile.unmanagedAttributePolicy !== 'ENABLED') await kc.users.updateProfile({ ...profile, unmanagedAttributePolicy: 'ENABLED' as never });
    // A realm imported by an older checkout gets what changes runs need here.
    await saveAdminEventsFor(kc, 'bridgekeeper', 'bridgekeeper-sync');

    groupIds.root = (await kc.groups.create({ name: root })).id;
    groupIds.a = (await kc.groups.createChildGroup({ id: groupIds.root }, { name: 'team-a' })).id;
    groupIds.b = (await kc.groups.createChildGroup({ id: groupIds.root }, { name: 'team-b' })).id;
    const seed: [string, string[], boolean, Record<string, string[]>?][] = [
      ['u1', ['a'], true, { department: ['R&D'] }],
      ['u2', ['a'], true],
      ['u3', ['b'], true],
      ['u4', ['root'], true],
      ['u5', ['a'], false],
    ];
    for (const [n, groups, enabled, attributes] of seed) {
      const { id } = await kc.users.create({
        username: name(n),
        email: `${name(n)}@example.com`,
        firstName: n.toUpperCase(),
        lastName: 'Synced',
        enabled,
        emailVerified: true,
        attributes,
      });
      ids[n] = id;
      for (const g of groups) await kc.users.addToGroup({ id, groupId: groupIds[g] });
    }

    nats = await startNats();
    pg = await createTestDatabase();
    const ports = { auth: await freePort(), directory: await freePort(), provisioning: await freePort() };
    base = `http://localhost:${ports.auth}`;
    stack = new Stack({ natsUrl: nats.url, databaseUrl: pg.url, ports, extraEnv: { provisioning: { PROVISIONING_MODELS: 'keycloak=sync' } } });
    await stack.start();
    token = createAdminToken({ DATABASE_URL: pg.url, DATA_DIR: stack.dataDir });
    sql = new Client({ connectionString: pg.url });
    await sql.connect();
    const created = await api('POST', '/api/v1/connectors', {
      id: 'kc',
      idp: 'keycloak',
      baseUrl: KEYCLOAK,
      realm: 'bridgekeeper',
      clientId: 'bridgekeeper-sync',
      clientSecret: 'dev-only-sync-secret-change-me',
      requiredGroups: [`/${root}`],
      attributes: ['department'],
      schedule: '',
      maxRemovalShare: 0.5,
    });
    expect(created.status).toBe(201);
    expect(JSON.stringify(created.body)).not.toContain('dev-only-sync-secret');
  });

  afterAll(async () => {
    for (const id of Object.values(ids)) await kc?.users.del({ id }).catch(() => undefined);
    if (groupIds.root) await kc?.groups.del({ id: groupIds.root }).catch(() => undefined);
    await sql?.end();
    await stack?.stop();
    await pg?.drop();
    await nats?.stop();
  });

  it('keeps connectors behind admin tokens, and never shows their secret', async () => {
    const url = `${stack.services.provisioning.url}/api/v1/connectors`;
    expect((await fetch(url)).status).toBe(401);
    const reader = createAdminToken({ DATABASE_URL: pg.url, DATA_DIR: stack.dataDir }, 'read-only');
    const list = await fetch(url, { headers: { authorization: `Bearer ${reader}` } });
    expect(list.status).toBe(200);
    expect(await list.text()).not.toContain('dev-only-sync-secret');
    expect((await fetch(`${url}/kc/sync`, { method: 'POST', headers: { authorization: `Bearer ${reader}` } })).status).toBe(403);
    const audit = await api('GET', '/api/v1/audit?targetType=connector&targetId=kc');
    expect(audit.body.items.map((a: { action: string }) => a.action)).toEqual(['connector.created']);
    expect(JSON.stringify(audit.body)).not.toContain('dev-only-sync-secret');
  });

  it('tests the connection: credentials, roles and the attribute policy', async () => {
    // The realm's events are checked with no changes schedule set too (changes runs need them).
    expect(await api('POST', '/api/v1/connectors/kc/test')).toMatchObject({
      status: 200,
      body: { ok: true, problems: [], warnings: [], unmanagedAttributePolicy: 'ENABLED', events: { adminEvents: true } },
    });
    // Saving what Keycloak refuses takes the explicit opt-out (?verify=false); the test then says what is wrong.
    expect((await api('PATCH', '/api/v1/connectors/kc', { clientSecret: 'wrong' })).status).toBe(422);
    await api('PATCH', '/api/v1/connectors/kc?verify=false', { clientSecret: 'wrong' });
    expect((await api('POST', '/api/v1/connectors/kc/test')).body).toMatchObject({
      ok: false,
      problems: [expect.stringContaining('refused the client credentials')],
    });
    await api('PATCH', '/api/v1/connectors/kc', { clientSecret: 'dev-only-sync-secret-change-me' });
    // A realm that does not exist is what Keycloak says, not "cannot be reached".
    await api('PATCH', '/api/v1/connectors/kc?verify=false', { realm: 'no-such-realm' });
    expect((await api('POST', '/api/v1/connectors/kc/test')).body).toMatchObject({
      ok: false,
      problems: [expect.stringMatching(/realm no-such-realm was not found .*Realm does not exist/)],
    });
    await api('PATCH', '/api/v1/connectors/kc', { realm: 'bridgekeeper' });
  });

  it('previews the plan with a dry run that writes nothing', async () => {
    const dry = await api('POST', '/api/v1/connectors/kc/sync?dryRun=true');
    expect(dry).toMatchObject({ status: 200, body: { status: 'dry-run', counts: { usersCreated: 4, groupsCreated: 3, membershipsAdded: 4 } } });
    expect(dry.body.plan.create.items.map((u: { username: string }) => u.username).sort()).toEqual([name('u1'), name('u2'), name('u3'), name('u4')]);
    expect(await directoryUsers()).toEqual([]);
  });

  it('syncs users, nested groups, memberships and attributes, keyed on the Keycloak id', async () => {
    const first = await syncNow();
    expect(first.progress.timingsMs).toEqual({
      keycloak: expect.any(Number),
      directory: expect.any(Number),
      plan: expect.any(Number),
      apply: expect.any(Number),
    });
    expect(first).toMatchObject({ status: 'applied', counts: { usersCreated: 4, usersDisabled: 0 } });
    expect(await directoryUsers()).toEqual([
      {
        username: name('u1'),
        email: `${name('u1')}@example.com`,
        display_name: 'U1 Synced',
        active: true,
        external_id: ids.u1,
        groups: `${root}/team-a`,
        department: 'R&D',
      },
      {
        username: name('u2'),
        email: `${name('u2')}@example.com`,
        display_name: 'U2 Synced',
        active: true,
        external_id: ids.u2,
        groups: `${root}/team-a`,
        department: null,
      },
      {
        username: name('u3'),
        email: `${name('u3')}@example.com`,
        display_name: 'U3 Synced',
        active: true,
        external_id: ids.u3,
        groups: `${root}/team-b`,
        department: null,
      },
      {
        username: name('u4'),
        email: `${name('u4')}@example.com`,
        display_name: 'U4 Synced',
        active: true,
        external_id: ids.u4,
        groups: root,
        department: null,
      },
    ]);
    const again = await syncNow();
    expect(again).toMatchObject({ status: 'applied', directoryWrites: 0 });
    expect(Object.values(again.counts).every((n) => n === 0)).toBe(true);
  });

  it("reads users with their attributes in pages that follow Keycloak's pace, every user once", async () => {
    const connection = { baseUrl: KEYCLOAK, realm: 'bridgekeeper', clientId: 'bridgekeeper-sync', clientSecret: 'dev-only-sync-secret-change-me' };
    // Pages of two: full representations read page after page (nextFullUserPage), against one brief page of all.
    const paged = await new KeycloakConnector({ ...connection, userPageSize: 2 }).snapshot({ attributes: ['department'] });
    const whole = await new KeycloakConnector(connection).snapshot();
    const idsOf = (users: { id: string }[]) => users.map((u) => u.id).sort();
    expect(paged.users.length).toBeGreaterThan(4);
    expect(idsOf(paged.users)).toEqual(idsOf(whole.users));
    expect(paged.users.find((u) => u.id === ids.u1)).toMatchObject({ username: name('u1'), attributes: { department: ['R&D'] } });
  });

  it('follows changes in Keycloak: profile, attributes, group moves, disabled and deleted users', async () => {
    await kc.users.update(
      { id: ids.u1 },
      { email: `${name('u1')}.new@example.com`, firstName: 'Una', lastName: 'Renamed', attributes: { department: ['Sales'] } },
    );
    await kc.users.delFromGroup({ id: ids.u2, groupId: groupIds.a });
    await kc.users.addToGroup({ id: ids.u2, groupId: groupIds.b });
    await kc.users.update({ id: ids.u3 }, { enabled: false });
    await kc.users.del({ id: ids.u4 });
    delete ids.u4;
    const r = await syncNow();
    expect(r).toMatchObject({ status: 'applied', counts: { usersUpdated: 1, usersDisabled: 2, membershipsAdded: 1, membershipsRemoved: 1 } });
    const users = await directoryUsers();
    expect(users.map((u) => [u.username, u.email, u.display_name, u.active, u.groups, u.department])).toEqual([
      [name('u1'), `${name('u1')}.new@example.com`, 'Una Renamed', true, `${root}/team-a`, 'Sales'],
      [name('u2'), `${name('u2')}@example.com`, 'U2 Synced', true, `${root}/team-b`, null],
      [name('u3'), `${name('u3')}@example.com`, 'U3 Synced', false, `${root}/team-b`, null],
      [name('u4'), `${name('u4')}@example.com`, 'U4 Synced', false, root, null],
    ]);
    const audit = await sql.query(`SELECT count(*)::int AS n FROM directory.audit_log WHERE actor = $1`, [`sync:${r.id}`]);
    expect(audit.rows[0].n).toBeGreaterThanOrEqual(5);
  });

  it('keeps the members of a group renamed in Keycloak only in letter case, run after run (the group follows the new spelling)', async () => {
    await kc.groups.update({ id: groupIds.a }, { name: 'TEAM-A' });
    try {
      for (let i = 0; i < 2; i++) {
        const r = await syncNow();
        expect(r).toMatchObject({
          status: 'applied',
          counts: { membershipsAdded: 0, membershipsRemoved: 0, groupsCreated: 0, groupsRenamed: i === 0 ? 1 : 0 },
        });
        expect((await directoryUsers()).find((u) => u.username === name('u1'))?.groups).toBe(`${root}/TEAM-A`);
      }
    } finally {
      await kc.groups.update({ id: groupIds.a }, { name: 'team-a' });
    }
    // A run after the rename back, so a later changes run starts after every group change here.
    expect(await syncNow()).toMatchObject({ status: 'applied', counts: { membershipsRemoved: 0 } });
  });

  it('disables nobody when Keycloak cannot be reached', async () => {
    await api('PATCH', '/api/v1/connectors/kc?verify=false', { baseUrl: 'http://127.0.0.1:9' });
    const r = await syncNow();
    expect(r).toMatchObject({ status: 'held', reason: expect.stringMatching(/nothing was applied: Keycloak at http:\/\/127.0.0.1:9 cannot be reached/) });
    expect((await directoryUsers()).filter((u) => u.active).map((u) => u.username)).toEqual([name('u1'), name('u2')]);
    expect((await api('POST', `/api/v1/sync-runs/${r.id}/discard`)).body.status).toBe('discarded');
    await api('PATCH', '/api/v1/connectors/kc', { baseUrl: KEYCLOAK });
  });

  it('holds a mass disable for approval, then applies it when approved', async () => {
    await api('PATCH', '/api/v1/connectors/kc', { maxRemovalShare: 0.1 });
    await kc.users.update({ id: ids.u1 }, { enabled: false });
    await kc.users.update({ id: ids.u2 }, { enabled: false });
    const held = await syncNow();
    expect(held).toMatchObject({ status: 'held', reason: expect.stringContaining('would disable or delete 2 of 2 active users') });
    expect((await directoryUsers()).filter((u) => u.active)).toHaveLength(2);
    const approved = await api('POST', `/api/v1/sync-runs/${held.id}/approve`, { planDigest: held.planDigest });
    expect(approved.status).toBe(202);
    await waitFor('the approved run', async () => (await api('GET', `/api/v1/sync-runs/${approved.body.id}`)).body.status === 'applied', 60_000, 200);
    expect((await directoryUsers()).filter((u) => u.active)).toHaveLength(0);
    expect((await api('GET', `/api/v1/sync-runs/${held.id}`)).body.status).toBe('approved');
    await kc.users.update({ id: ids.u1 }, { enabled: true });
    await api('PATCH', '/api/v1/connectors/kc', { maxRemovalShare: 0.5 });
  });

  it('runs on sync.requested, one run at a time', async () => {
    const nc = await connect({ servers: nats.url });
    const completed: { data: { runId: string; status: string; counts: Record<string, number> } }[] = [];
    nc.subscribe('sync.completed', { callback: (_e, m) => completed.push(JSONCodec<(typeof completed)[number]>().decode(m.data)) });
    const event = createEvent(SyncRequestedV1, 'test', { connectorId: 'kc', dryRun: false, requestedBy: 'test-event' });
    await nc.jetstream().publish(SyncRequestedV1.subject, JSONCodec().encode(event), { msgID: event.id });
    const r = await waitFor(
      'a run started by the event',
      async () => {
        const runs = (await api('GET', '/api/v1/sync-runs?limit=5')).body.items as { id: string; trigger: string; status: string }[];
        const found = runs.find((x) => x.trigger === 'event');
        return found && found.status !== 'running' ? found : null;
      },
      60_000,
      200,
    );
    expect(r).toMatchObject({ status: 'applied', counts: { usersEnabled: 1 } });
    await waitFor('sync.completed', async () => completed.some((c) => c.data.runId === r.id));
    expect(completed.find((c) => c.data.runId === r.id)!.data).toMatchObject({ status: 'applied' });
    await nc.close();
    const [a, b] = await Promise.all([api('POST', '/api/v1/connectors/kc/sync'), api('POST', '/api/v1/connectors/kc/sync')]);
    expect([a.status, b.status].sort()).toEqual([202, 409]);
    await waitFor(
      'the run to end',
      async () => (await api('GET', `/api/v1/sync-runs/${a.status === 202 ? a.body.id : b.body.id}`)).body.status !== 'running',
      60_000,
      200,
    );
  });

  it('lets a user created in Keycloak after the last run sign in at once (single-user sync)', async () => {
    const { id } = await kc.users.create({
      username: name('u6'),
      email: `${name('u6')}@example.com`,
      firstName: 'Six',
      lastName: 'New',
      enabled: true,
      emailVerified: true,
      credentials: [{ type: 'password', value: 'six', temporary: false }],
    });
    ids.u6 = id;
    await kc.users.addToGroup({ id, groupId: groupIds.b });
    execFileSync(process.execPath, [join(ROOT, 'scripts/keycloak-register-sp.mjs'), base], { env: { ...process.env, KEYCLOAK_URL: KEYCLOAK }, stdio: 'pipe' });
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`${base}/login?returnTo=/session`);
      await page.fill('#username', name('u6'));
      await page.fill('#password', 'six');
      await page.click('#kc-login');
      await page.waitForURL(`${base}/session`, { timeout: 60_000 });
      const session = await (await page.context().request.get(`${base}/session`)).json();
      expect(session).toMatchObject({ user: { username: name('u6'), displayName: 'Six New' }, groups: [`${root}/team-b`] });
      expect((await directoryUsers()).find((u) => u.username === name('u6'))).toMatchObject({ external_id: id, active: true });
    } finally {
      await browser.close();
      execFileSync(process.execPath, [join(ROOT, 'scripts/keycloak-register-sp.mjs'), '--remove', base], {
        env: { ...process.env, KEYCLOAK_URL: KEYCLOAK },
        stdio: 'pipe',
      });
    }
  });

  it("follows Keycloak's admin events in changes runs, and reads everything where they cannot tell", async () => {
    // Continues from the last applied run: only the users named since then are read.
    const first = await syncNow('?mode=changes');
    expect(first).toMatchObject({ status: 'applied', mode: 'changes', changesUntil: expect.any(Number), progress: { mode: 'changes' } });

    await kc.users.update({ id: ids.u1 }, { lastName: 'Evented' });
    await kc.users.delFromGroup({ id: ids.u6, groupId: groupIds.b });
    await kc.users.addToGroup({ id: ids.u6, groupId: groupIds.a });
    ids.u7 = (await kc.users.create({ username: name('u7'), email: `${name('u7')}@example.com`, firstName: 'Seven', lastName: 'Evented', enabled: true })).id;
    await kc.users.addToGroup({ id: ids.u7, groupId: groupIds.a });
    // A service account in a synced group is named by the event, but it is not a person: full
    // runs never see it (Keycloak's listing leaves it out), and neither do changes runs.
    const [syncClient] = await kc.clients.find({ clientId: 'bridgekeeper-sync' });
    const serviceAccount = await kc.clients.getServiceAccountUser({ id: syncClient.id! });
    await kc.users.addToGroup({ id: serviceAccount.id!, groupId: groupIds.a });
    const changed = await syncNow('?mode=changes');
    expect(changed).toMatchObject({
      status: 'applied',
      mode: 'changes',
      counts: { usersCreated: 1, usersUpdated: 1, usersDisabled: 0, membershipsAdded: 2, membershipsRemoved: 1 },
    });
    expect(changed.progress.usersNamed).toBeGreaterThanOrEqual(3);
    expect(changed.progress.usersNamed).toBeLessThan(20); // the named users, not the realm
    const users = await directoryUsers();
    expect(users.find((u) => u.username === name('u1'))).toMatchObject({ display_name: 'Una Evented', groups: `${root}/team-a` });
    expect(users.find((u) => u.username === name('u6'))).toMatchObject({ groups: `${root}/team-a` });
    expect(users.find((u) => u.username === name('u7'))).toMatchObject({
      external_id: ids.u7,
      display_name: 'Seven Evented',
      active: true,
      groups: `${root}/team-a`,
    });
    expect(users.map((u) => u.username)).not.toContain('service-account-bridgekeeper-sync');

    // Nothing changed: the users named again (events read once more as overlap) write nothing.
    expect(await syncNow('?mode=changes')).toMatchObject({ status: 'applied', mode: 'changes', directoryWrites: 0 });

    // A user deleted in Keycloak is disabled here by the next changes run.
    await kc.users.del({ id: ids.u7 });
    delete ids.u7;
    expect(await syncNow('?mode=changes')).toMatchObject({ status: 'applied', mode: 'changes', counts: { usersDisabled: 1 } });
    expect((await directoryUsers()).find((u) => u.username === name('u7'))).toMatchObject({ active: false });

    // A connector changed since the last run: its settings may reach anyone, so a full run.
    expect(await api('PATCH', '/api/v1/connectors/kc', { changesSchedule: '*/5 * * * *' })).toMatchObject({
      status: 200,
      body: { changesSchedule: '*/5 * * * *' },
    });
    expect((await api('POST', '/api/v1/connectors/kc/test')).body).toMatchObject({ ok: true, events: { adminEvents: true } });
    expect(await syncNow('?mode=changes')).toMatchObject({
      status: 'applied',
      mode: 'full',
      progress: { fullBecause: 'the connector was changed after the last applied run' },
    });
    await api('PATCH', '/api/v1/connectors/kc', { changesSchedule: '' });
    await syncNow();

    // A new group (Keycloak logs moving a group the same way): a full run, saying why.
    groupIds.c = (await kc.groups.createChildGroup({ id: groupIds.root }, { name: 'team-c' })).id;
    expect(await syncNow('?mode=changes')).toMatchObject({
      status: 'applied',
      mode: 'full',
      progress: { fullBecause: expect.stringContaining('a group was created, renamed, moved or deleted') },
    });

    // A realm that does not save admin events: the run is held, says how to fix it, applies nothing.
    const events = await kc.realms.getConfigEvents({ realm: 'bridgekeeper' });
    await kc.realms.updateConfigEvents({ realm: 'bridgekeeper' }, { ...events, adminEventsEnabled: false });
    try {
      const held = await syncNow('?mode=changes');
      expect(held).toMatchObject({ status: 'held', reason: expect.stringContaining('does not save admin events') });
      expect((await api('POST', '/api/v1/connectors/kc/test')).body).toMatchObject({ ok: true }); // no changes schedule: not a problem
      await api('POST', `/api/v1/sync-runs/${held.id}/discard`);
    } finally {
      await kc.realms.updateConfigEvents({ realm: 'bridgekeeper' }, { ...events, adminEventsEnabled: true });
    }
    expect((await api('POST', '/api/v1/connectors/kc/sync?mode=sometimes')).status).toBe(400);
  });

  it('joins the members of a Keycloak group to a local group of the same name only where the admin granted it, once, and leaves the local group to its admin', async () => {
    // An admin made the group by hand (source `local`) before Keycloak got one of the same name.
    const local = await fetch(`${stack.services.directory.url}/api/v1/groups`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: `${root}/Shared` }),
    });
    expect(local.status).toBe(201);
    groupIds.shared = (await kc.groups.createChildGroup({ id: groupIds.root }, { name: 'shared' })).id;
    await kc.users.addToGroup({ id: ids.u1, groupId: groupIds.shared });
    // Not granted: the connector does not join it, and the run's plan says so.
    const refused = await syncNow();
    expect(refused).toMatchObject({
      status: 'applied',
      counts: { groupsCreated: 0, membershipsAdded: 0 },
      plan: { groupsRefused: { items: [`${root}/shared`] } },
    });
    expect((await directoryUsers()).find((u) => u.username === name('u1'))).toMatchObject({ groups: `${root}/team-a` });
    // Granted to the connector's IdP: joined.
    expect((await api('PATCH', '/api/v1/idps/keycloak/provisioning', { model: 'sync', grantLocalGroups: [`${root}/shared`] })).status).toBe(200);
    expect(await syncNow()).toMatchObject({ status: 'applied', counts: { groupsCreated: 0, membershipsAdded: 1 } });
    expect((await directoryUsers()).find((u) => u.username === name('u1'))).toMatchObject({ groups: `${root}/Shared,${root}/team-a` });
    // Already a member: the next run has nothing to do.
    const again = await syncNow();
    expect(again).toMatchObject({ status: 'applied', directoryWrites: 0 });
    expect(Object.values(again.counts).every((n) => n === 0)).toBe(true);
    // Out of the Keycloak group: the local group is not the connector's to leave.
    await kc.users.delFromGroup({ id: ids.u1, groupId: groupIds.shared });
    expect(await syncNow()).toMatchObject({ status: 'applied', directoryWrites: 0, counts: { membershipsRemoved: 0 } });
    expect((await directoryUsers()).find((u) => u.username === name('u1'))).toMatchObject({ groups: `${root}/Shared,${root}/team-a` });
  });
});
