import type KcAdminClient from '@keycloak/keycloak-admin-client';
import { Client } from 'pg';
import { createTestDatabase, freePort, startNats, TestDatabase, TestNats, waitFor } from '@bridgekeeper/testing';
import { faultProxy } from './support/fault-proxy';
import { KEYCLOAK, keycloakAdmin } from './support/keycloak';
import { createAdminToken, Stack } from './support/stack';

/**
 * A first User Sync into a directory that holds none of the connector's users creates each page
 * of Keycloak's users as it arrives, while the rest is still being read. Two realms of this run's
 * own, one per connector (every user in scope: no required groups), read ten users a page; a
 * proxy in front of the real Keycloak fails the third page on cue.
 */
const run = Math.random().toString(36).slice(2, 7);
const realmOf = (connector: string) => `bk-${connector}-${run}`;
const SECRET = 'dev-only-import-secret';
const name = (connector: string, i: number) => `${connector}-u${String(i).padStart(2, '0')}`;

describe('User Sync into an empty directory: users created while Keycloak is read', () => {
  let nats: TestNats;
  let pg: TestDatabase;
  let stack: Stack;
  let sql: Client;
  let kc: KcAdminClient;
  let token: string;
  let proxy: Awaited<ReturnType<typeof faultProxy>>;
  let failThirdPage = true;

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${stack.services.provisioning.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: (await res.json().catch(() => undefined)) as any };
  };
  const syncNow = async (connector: string) => {
    const started = await api('POST', `/api/v1/connectors/${connector}/sync`);
    expect(started.status).toBe(202);
    return waitFor('the sync run to end', async () => {
      const r = (await api('GET', `/api/v1/sync-runs/${started.body.id}`)).body;
      return r.status !== 'running' ? r : null;
    }, 60_000, 200);
  };
  const directoryUsers = async (source: string) =>
    (
      await sql.query(
        `SELECT u.username, u.active,
                COALESCE((SELECT string_agg(g.name, ',' ORDER BY g.name) FROM directory.memberships m JOIN directory.groups g ON g.id = m.group_id WHERE m.user_id = u.id), '') AS groups,
                (SELECT p.value FROM directory.user_properties p WHERE p.user_id = u.id AND p.key = 'department') AS department
           FROM directory.users u WHERE u.source = $1 ORDER BY u.username`,
        [source],
      )
    ).rows;
  /** What Keycloak holds, as the directory should after a full sync: 24 enabled users (the 25th is disabled there). */
  const expected = (connector: string) => Array.from({ length: 24 }, (_, i) => ({ username: name(connector, i), active: true, groups: i % 2 ? `${connector}-staff` : `${connector}-eng/backend,${connector}-staff`, department: i % 3 ? null : 'R&D' }));
  const connector = (id: string) => ({ id, idp: id, baseUrl: proxy.url, realm: realmOf(id), clientId: 'bk-import', clientSecret: SECRET, attributes: ['department'], schedule: '', maxRemovalShare: 0.5 });
  /** A realm with the sync client, two groups in use (and their parent; named for the connector, as directory groups are shared by name) and 25 users, the last disabled. */
  const seedRealm = async (connectorId: string) => {
    const realm = realmOf(connectorId);
    await kc.realms.create({
      realm,
      enabled: true,
      groups: [
        { name: `${connectorId}-eng`, path: `/${connectorId}-eng`, subGroups: [{ name: 'backend', path: `/${connectorId}-eng/backend` }] },
        { name: `${connectorId}-staff`, path: `/${connectorId}-staff` },
      ],
      clients: [{ clientId: 'bk-import', enabled: true, publicClient: false, secret: SECRET, serviceAccountsEnabled: true, standardFlowEnabled: false, directAccessGrantsEnabled: false }],
      users: [{ username: 'service-account-bk-import', enabled: true, serviceAccountClientId: 'bk-import', clientRoles: { 'realm-management': ['view-users', 'query-groups'] } }],
    });
    const profile = await kc.users.getProfile({ realm });
    await kc.users.updateProfile({ ...profile, realm, unmanagedAttributePolicy: 'ENABLED' as never });
    const users = Array.from({ length: 25 }, (_, i) => ({
      username: name(connectorId, i),
      enabled: i < 24,
      email: `${name(connectorId, i)}@import.example.com`,
      emailVerified: true,
      firstName: 'Import',
      lastName: `User ${i}`,
      attributes: i % 3 ? {} : { department: ['R&D'] },
      groups: i % 2 ? [`/${connectorId}-staff`] : [`/${connectorId}-eng/backend`, `/${connectorId}-staff`],
    }));
    await kc.realms.partialImport({ realm, rep: { ifResourceExists: 'FAIL', users } as never });
  };

  beforeAll(async () => {
    await waitFor('Keycloak (scripts/keycloak.sh start)', async () => (await fetch(`${KEYCLOAK}/realms/bridgekeeper`)).ok, 10_000, 500);
    kc = await keycloakAdmin();
    for (const id of ['clean', 'interrupted']) await seedRealm(id);

    // Keycloak lists users by username, ten a page here: the third page (…-u20 on) fails while armed.
    proxy = await faultProxy(KEYCLOAK, (method, url) => failThirdPage && method === 'GET' && /^\/admin\/realms\/[^/]+\/users\/?$/.test(url.pathname) && url.searchParams.get('first') === '20');
    nats = await startNats();
    pg = await createTestDatabase();
    stack = new Stack({ natsUrl: nats.url, databaseUrl: pg.url, ports: { auth: await freePort(), directory: await freePort(), provisioning: await freePort() }, extraEnv: { provisioning: { PROVISIONING_KEYCLOAK_USER_PAGE_SIZE: '10' } } });
    await stack.start('directory', 'provisioning');
    token = createAdminToken({ DATABASE_URL: pg.url, DATA_DIR: stack.dataDir });
    sql = new Client({ connectionString: pg.url });
    await sql.connect();
    for (const id of ['interrupted', 'clean']) expect((await api('POST', '/api/v1/connectors', connector(id))).status).toBe(201);
  });

  afterAll(async () => {
    for (const id of ['clean', 'interrupted']) await kc?.realms.del({ realm: realmOf(id) }).catch(() => undefined);
    await sql?.end();
    await stack?.stop();
    await proxy?.stop();
    await pg?.drop();
    await nats?.stop();
  });

  it('creates each page of users while the next is read, and the plan after the read adds their groups', async () => {
    failThirdPage = false;
    const first = await syncNow('clean');
    expect(first).toMatchObject({ status: 'applied', mode: 'full', counts: { usersCreated: 24, usersUpdated: 0, membershipsAdded: 36, groupsCreated: 2 } });
    expect(first.progress).toMatchObject({ createdWhileReading: { users: 24, memberships: 36, groups: 2 }, timingsMs: { keycloak: expect.any(Number), creating: expect.any(Number), directory: expect.any(Number), apply: expect.any(Number) } });
    expect(first.plan.create.total).toBe(24);
    expect(first.plan.create.items.map((u: { username: string }) => u.username)).toEqual(expected('clean').map((u) => u.username));
    expect(first.plan).toMatchObject({ seatsDelta: 24, addMemberships: { total: 36 }, groupsToCreate: { total: 2, items: expect.arrayContaining(['clean-eng/backend', 'clean-staff']) } });
    expect(await directoryUsers('clean')).toEqual(expected('clean'));
    // Each user was created once: one audit row each, by this run.
    const audit = await sql.query(`SELECT count(*)::int AS n FROM directory.audit_log WHERE actor = $1 AND action = 'user.created'`, [`sync:${first.id}`]);
    expect(audit.rows[0].n).toBe(24);

    const again = await syncNow('clean');
    expect(again).toMatchObject({ status: 'applied', directoryWrites: 0 });
    expect(again.progress.createdWhileReading).toBeUndefined();
  });

  it('keeps the users it created when Keycloak fails in the middle, disables nobody, and the next run finishes the job', async () => {
    failThirdPage = true;
    const held = await syncNow('interrupted');
    expect(held.status).toBe('held');
    expect(held.reason).toMatch(/^held: Keycloak failed while listing users: .*; the 20 users read before it were created \(and \d+ of their memberships\), nobody was disabled or removed/);
    // The groups whose member lists arrived before the failure have their members among these (the lists are read beside the users).
    const partial = await directoryUsers('interrupted');
    const want = expected('interrupted').slice(0, 20);
    expect(partial.map((u) => ({ ...u, groups: '' }))).toEqual(want.map((u) => ({ ...u, groups: '' })));
    partial.forEach((u, i) => expect(want[i].groups.split(',')).toEqual(expect.arrayContaining(u.groups ? u.groups.split(',') : [])));
    const membershipsBefore = partial.reduce((n, u) => n + (u.groups ? u.groups.split(',').length : 0), 0);

    failThirdPage = false;
    const finished = await syncNow('interrupted');
    // The directory now holds some of the connector's users: this run plans first, then applies.
    expect(finished).toMatchObject({ status: 'applied', counts: { usersCreated: 4, usersDisabled: 0, membershipsAdded: 36 - membershipsBefore } });
    expect(finished.progress.createdWhileReading).toBeUndefined();
    expect(await directoryUsers('interrupted')).toEqual(expected('interrupted'));
  });
});
