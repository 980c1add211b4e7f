import type KcAdminClient from '@keycloak/keycloak-admin-client';
import { createTestDatabase, freePort, saveAdminEventsFor, startNats, TestDatabase, TestNats, waitFor } from '@bridgekeeper/testing';
import { KEYCLOAK, keycloakAdmin } from './support/keycloak';
import { createAdminToken, Stack } from './support/stack';
import { adminCall, devSyncConnector, syncRun } from './support/sync-e2e';

/**
 * A synced group is its Keycloak group, by id, against the real Keycloak on both engines: renamed,
 * moved to another parent, or renamed only in letter case in Keycloak, it is renamed in place in
 * the directory (same id, same members, nothing left behind), on every later run too.
 */
const run = Math.random().toString(36).slice(2, 7);

describe.each(['postgres', 'sqlite'] as const)('User Sync groups from the real Keycloak on %s', (engine) => {
  const root = `sg-${run}-${engine === 'postgres' ? 'pg' : 'sl'}`;
  let nats: TestNats;
  let pg: TestDatabase | undefined;
  let stack: Stack;
  let kc: KcAdminClient;
  let token: string;
  let rootGroup: string;
  let team: string;
  const kcIds: string[] = [];

  const call = adminCall(() => ({ stack, token }));
  type Group = { id: string; name: string; externalId: string | null; members?: number };
  const ourGroups = async (): Promise<Group[]> => (await call('directory', 'GET', `/api/v1/groups?source=kc&limit=200`)).body.items;
  const groupById = async (id: string): Promise<Group> => (await call('directory', 'GET', `/api/v1/groups/${id}`)).body;

  beforeAll(async () => {
    await waitFor('Keycloak (scripts/keycloak.sh start)', async () => (await fetch(`${KEYCLOAK}/realms/bridgekeeper`)).ok, 10_000, 500);
    kc = await keycloakAdmin();
    await saveAdminEventsFor(kc, 'bridgekeeper', 'bridgekeeper-sync');
    rootGroup = (await kc.groups.create({ name: root })).id;
    team = (await kc.groups.createChildGroup({ id: rootGroup }, { name: 'team' })).id;
    for (const n of ['ada', 'bob']) {
      const { id } = await kc.users.create({
        username: `${root}-${n}`,
        email: `${root}-${n}@example.com`,
        firstName: n,
        lastName: 'Grouped',
        enabled: true,
        emailVerified: true,
      });
      kcIds.push(id);
      await kc.users.addToGroup({ id, groupId: rootGroup });
      await kc.users.addToGroup({ id, groupId: team });
    }
    nats = await startNats();
    pg = engine === 'postgres' ? await createTestDatabase() : undefined;
    const ports = { auth: await freePort(), directory: await freePort(), provisioning: await freePort() };
    stack = new Stack({ natsUrl: nats.url, databaseUrl: pg?.url, ports, extraEnv: { provisioning: { PROVISIONING_MODELS: 'keycloak=sync' } } });
    await stack.start();
    token = createAdminToken({ ...(pg ? { DATABASE_URL: pg.url } : {}), DATA_DIR: stack.dataDir });
    expect((await call('provisioning', 'POST', '/api/v1/connectors', devSyncConnector(root))).status).toBe(201);
  }, 120_000);

  afterAll(async () => {
    if (process.env.DEBUG_STACK) for (const s of Object.values(stack.services)) console.log(s.name, s.output.slice(-4000));
    for (const id of kcIds) await kc?.users.del({ id }).catch(() => undefined);
    if (rootGroup) await kc?.groups.del({ id: rootGroup }).catch(() => undefined);
    await stack?.stop();
    await pg?.drop();
    await nats?.stop();
  });

  it('creates each synced group as its Keycloak group', async () => {
    expect(await syncRun(call)).toMatchObject({ status: 'applied', counts: { usersCreated: 2, groupsCreated: 2, membershipsAdded: 4 } });
    const groups = await ourGroups();
    expect(groups.map((g) => [g.name, g.externalId]).sort()).toEqual([
      [root, rootGroup],
      [`${root}/team`, team],
    ]);
  });

  it('renames a group renamed in Keycloak in place: same id, same members, no empty group left behind', async () => {
    const before = (await ourGroups()).find((g) => g.externalId === team)!;
    await kc.groups.update({ id: team }, { name: 'squad' });
    const renamed = await syncRun(call);
    expect(renamed).toMatchObject({ status: 'applied', counts: { groupsRenamed: 1, groupsCreated: 0, membershipsAdded: 0, membershipsRemoved: 0 } });
    expect(renamed.plan.groupsToRename.items).toEqual([{ externalId: team, from: `${root}/team`, to: `${root}/squad` }]);
    expect(await groupById(before.id)).toMatchObject({ name: `${root}/squad`, externalId: team, members: 2 });
    expect((await ourGroups()).map((g) => g.name).sort()).toEqual([root, `${root}/squad`]);
  });

  it('renames a group moved to another parent in place', async () => {
    const id = (await ourGroups()).find((g) => g.externalId === team)!.id;
    const dept = (await kc.groups.createChildGroup({ id: rootGroup }, { name: 'dept' })).id;
    await kc.groups.updateChildGroup({ id: dept }, { id: team, name: 'squad' });
    expect(await syncRun(call)).toMatchObject({ status: 'applied', counts: { groupsRenamed: 1, membershipsAdded: 0, membershipsRemoved: 0 } });
    expect(await groupById(id)).toMatchObject({ name: `${root}/dept/squad`, externalId: team, members: 2 });
    expect((await ourGroups()).some((g) => g.name === `${root}/squad`)).toBe(false);
  });

  it('a rename in letter case only is a rename too; the members stay on every later run', async () => {
    const id = (await ourGroups()).find((g) => g.externalId === team)!.id;
    await kc.groups.update({ id: team }, { name: 'Squad' });
    expect(await syncRun(call)).toMatchObject({ status: 'applied', counts: { groupsRenamed: 1, membershipsAdded: 0, membershipsRemoved: 0 } });
    for (let i = 0; i < 2; i++) {
      expect(await syncRun(call)).toMatchObject({
        status: 'applied',
        counts: { groupsRenamed: 0, membershipsAdded: 0, membershipsRemoved: 0 },
        directoryWrites: 0,
      });
      expect(await groupById(id)).toMatchObject({ name: `${root}/dept/Squad`, members: 2 });
    }
  });
});
