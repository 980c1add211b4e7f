import type KcAdminClient from '@keycloak/keycloak-admin-client';
import { createTestDatabase, freePort, saveAdminEventsFor, startNats, TestDatabase, TestNats, waitFor } from '@bridgekeeper/testing';
import { KEYCLOAK, keycloakAdmin } from './support/keycloak';
import { createAdminToken, Stack } from './support/stack';
import { adminCall, devSyncConnector, syncRun } from './support/sync-e2e';

/**
 * What anyone who can name a Keycloak group or edit their own attributes sends User Sync, against
 * the real Keycloak, on both engines (issues 25/26, F2, F4): a group path longer than a name may be
 * and an attribute with a NUL are each left out, named in the run (`plan.namesRefused`), and the
 * run applies the rest — so disables go on.
 */
const run = Math.random().toString(36).slice(2, 7);

describe.each(['postgres', 'sqlite'] as const)('User Sync with over-long names and unstorable values from the real Keycloak on %s', (engine) => {
  const root = `sv-${run}-${engine === 'postgres' ? 'pg' : 'sl'}`;
  const name = (n: string) => `${root}-${n}`;
  let nats: TestNats;
  let pg: TestDatabase | undefined;
  let stack: Stack;
  let kc: KcAdminClient;
  let token: string;
  let rootGroup: string;
  let longTop: string;
  const kcIds = new Set<string>();

  const call = adminCall(() => ({ stack, token }));
  const syncNow = () => syncRun(call);
  const byExternal = async (externalId: string) =>
    ((await call('directory', 'GET', '/api/v1/users?source=kc&limit=200')).body.items as { id: string; externalId: string; active: boolean }[]).find(
      (u) => u.externalId === externalId,
    );
  const kcUser = async (n: string, attributes?: Record<string, string[]>) => {
    const { id } = await kc.users.create({
      username: name(n),
      email: `${name(n)}@example.com`,
      firstName: n,
      lastName: 'Synced',
      enabled: true,
      emailVerified: true,
      attributes,
    });
    kcIds.add(id);
    await kc.users.addToGroup({ id, groupId: rootGroup });
    return id;
  };

  beforeAll(async () => {
    await waitFor('Keycloak (scripts/keycloak.sh start)', async () => (await fetch(`${KEYCLOAK}/realms/bridgekeeper`)).ok, 10_000, 500);
    kc = await keycloakAdmin();
    const profile = await kc.users.getProfile();
    if (profile.unmanagedAttributePolicy !== 'ENABLED') await kc.users.updateProfile({ ...profile, unmanagedAttributePolicy: 'ENABLED' as never });
    await saveAdminEventsFor(kc, 'bridgekeeper', 'bridgekeeper-sync');
    rootGroup = (await kc.groups.create({ name: root })).id;

    nats = await startNats();
    pg = engine === 'postgres' ? await createTestDatabase() : undefined;
    const ports = { auth: await freePort(), directory: await freePort(), provisioning: await freePort() };
    stack = new Stack({ natsUrl: nats.url, databaseUrl: pg?.url, ports, extraEnv: { provisioning: { PROVISIONING_MODELS: 'keycloak=sync' } } });
    await stack.start();
    token = createAdminToken({ ...(pg ? { DATABASE_URL: pg.url } : {}), DATA_DIR: stack.dataDir });
    const created = await call('provisioning', 'POST', '/api/v1/connectors', devSyncConnector(root, { maxRemovalShare: 1 }));
    expect(created.status).toBe(201);
  }, 120_000);

  afterAll(async () => {
    if (process.env.DEBUG_STACK) for (const s of Object.values(stack.services)) console.log(s.name, s.output.slice(-4000));
    for (const id of kcIds) await kc?.users.del({ id }).catch(() => undefined);
    for (const id of [rootGroup, longTop]) if (id) await kc?.groups.del({ id }).catch(() => undefined);
    await stack?.stop();
    await pg?.drop();
    await nats?.stop();
  });

  it('leaves out a group path over 255 and an attribute with a NUL, applies the rest, and still disables', async () => {
    // A group path of 262 characters: two names Keycloak allows (each under 255), joined.
    longTop = (await kc.groups.create({ name: `${name('a')}${'a'.repeat(110)}` })).id;
    const longChild = (await kc.groups.createChildGroup({ id: longTop }, { name: 'b'.repeat(140) })).id;
    const ok = await kcUser('ok', { department: ['R&D'] });
    await kc.users.addToGroup({ id: ok, groupId: longChild });
    const nul = await kcUser('nul', { department: ['a\u0000b'] });

    const first = await syncNow();
    expect(first).toMatchObject({ status: 'applied', counts: { usersCreated: 2 } });
    const longPath = `${name('a')}${'a'.repeat(110)}/${'b'.repeat(140)}`;
    expect(first.plan.namesRefused.items).toEqual(
      expect.arrayContaining([
        { kind: 'group', name: longPath, reason: `group: is longer than 255 characters (${longPath.length} in NFC)` },
        { kind: 'value', externalId: nul, name: 'properties.department', reason: 'properties.department: contains a NUL character; left out' },
      ]),
    );
    const okUser = (await byExternal(ok))!;
    expect(((await call('directory', 'GET', `/api/v1/users/${okUser.id}/groups`)).body as { name: string }[]).map((g) => g.name)).toEqual([root]);
    expect((await call('directory', 'GET', `/api/v1/users/${okUser.id}/properties`)).body).toEqual({ department: 'R&D' });
    const nulUser = (await byExternal(nul))!;
    expect(nulUser.active).toBe(true);
    expect((await call('directory', 'GET', `/api/v1/users/${nulUser.id}/properties`)).body).toEqual({});

    // Deprovisioning goes on: the next run disables a user Keycloak disabled, the long group notwithstanding.
    await kc.users.update({ id: ok }, { enabled: false });
    const second = await syncNow();
    expect(second).toMatchObject({ status: 'applied', counts: { usersDisabled: 1 } });
    expect((await byExternal(ok))!.active).toBe(false);
  });
});
