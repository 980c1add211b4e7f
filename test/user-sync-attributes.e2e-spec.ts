import type KcAdminClient from '@keycloak/keycloak-admin-client';
import { createTestDatabase, freePort, saveAdminEventsFor, startNats, TestDatabase, TestNats, waitFor } from '@bridgekeeper/testing';
import { KEYCLOAK, keycloakAdmin } from './support/keycloak';
import { createAdminToken, Stack } from './support/stack';
import { adminCall, devSyncConnector, syncRun } from './support/sync-e2e';

/**
 * Attributes and counts through the real Keycloak, on both engines (issue 26, "Attributes and
 * counts"): a multi-valued attribute keeps every value (a list; one value stays a string), a run
 * with nothing new writes nothing, an attribute removed in Keycloak (or emptied) removes the
 * property the connector owns while an admin's own property stays, and a run's counts and
 * `directoryWrites` are what the directory wrote: the audit rows of the run, not the plan.
 */
const run = Math.random().toString(36).slice(2, 7);

describe.each(['postgres', 'sqlite'] as const)('User Sync attributes and counts from the real Keycloak on %s', (engine) => {
  const root = `sa-${run}-${engine === 'postgres' ? 'pg' : 'sl'}`;
  const name = (n: string) => `${root}-${n}`;
  let nats: TestNats;
  let pg: TestDatabase | undefined;
  let stack: Stack;
  let kc: KcAdminClient;
  let token: string;
  let rootGroup: string;
  const kcIds = new Set<string>();

  const call = adminCall(() => ({ stack, token }));
  const syncNow = () => syncRun(call);
  const byExternal = async (externalId: string) =>
    ((await call('directory', 'GET', `/api/v1/users?source=kc&limit=200`)).body.items as { id: string; externalId: string }[]).find(
      (u) => u.externalId === externalId,
    );
  const propertiesOf = async (externalId: string) => (await call('directory', 'GET', `/api/v1/users/${(await byExternal(externalId))!.id}/properties`)).body;
  /** Every audit row a run wrote (its actor is `sync:<run id>`). */
  const auditOf = async (runId: string) => {
    const rows: { action: string; targetId: string; before: any; after: any }[] = [];
    let cursor: string | undefined;
    do {
      const page = (await call('directory', 'GET', `/api/v1/audit?actor=sync:${runId}&limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)).body;
      rows.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return rows;
  };
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
    const created = await call(
      'provisioning',
      'POST',
      '/api/v1/connectors',
      devSyncConnector(root, { maxRemovalShare: 1, attributes: ['department', 'roles'] }),
    );
    expect(created.status).toBe(201);
  }, 120_000);

  afterAll(async () => {
    if (process.env.DEBUG_STACK) for (const s of Object.values(stack.services)) console.log(s.name, s.output.slice(-4000));
    for (const id of kcIds) await kc?.users.del({ id }).catch(() => undefined);
    if (rootGroup) await kc?.groups.del({ id: rootGroup }).catch(() => undefined);
    await stack?.stop();
    await pg?.drop();
    await nats?.stop();
  });

  it('keeps every value, removes what Keycloak removed (only the keys it owns), and counts what the directory wrote', async () => {
    // A local account holds the name a Keycloak user asks for: that user is left out (a conflict),
    // so the plan's counts are more than what the directory applies.
    const local = await call('directory', 'POST', '/api/v1/users', { username: name('held'), email: null, displayName: 'Held here' });
    expect(local.status).toBe(201);
    const ana = await kcUser('ana', { department: ['R&D'], roles: ['dev', 'ops', 'qa'] });
    const ben = await kcUser('ben', { department: ['Sales'] });
    await kcUser('held', { department: ['Ops'] });

    const first = await syncNow();
    expect(first).toMatchObject({ status: 'applied', plan: { create: { total: 3 }, conflicts: { total: 1 } } });
    expect(first.counts).toMatchObject({ usersCreated: 2, usersConflicting: 1, membershipsAdded: 2, propertiesChanged: 3, groupsCreated: 1 });
    expect(await propertiesOf(ana)).toEqual({ department: 'R&D', roles: ['dev', 'ops', 'qa'] });
    expect(await propertiesOf(ben)).toEqual({ department: 'Sales' });
    // Every write is counted, property writes included, and each is one audit row of the run.
    const firstAudit = await auditOf(first.id);
    expect(first.directoryWrites).toBe(firstAudit.length);
    expect(firstAudit.filter((a) => a.action === 'property.changed')).toHaveLength(3);
    expect(firstAudit.find((a) => a.action === 'property.changed' && a.targetId.endsWith(':roles'))).toMatchObject({
      before: null,
      after: { roles: ['dev', 'ops', 'qa'] },
    });

    // An admin's own property (a key the connector does not sync) on a synced user.
    const anaId = (await byExternal(ana))!.id;
    expect((await call('directory', 'PUT', `/api/v1/users/${anaId}/properties/badge`, { value: '42' })).status).toBe(200);

    // Nothing changed in Keycloak: the lists compare equal, nothing is written.
    const quiet = await syncNow();
    expect(quiet).toMatchObject({ status: 'applied', directoryWrites: 0, counts: { usersUpdated: 0, propertiesChanged: 0, propertiesRemoved: 0 } });

    // ana loses department and two roles; ben's department is emptied.
    await kc.users.update({ id: ana }, { email: `${name('ana')}@example.com`, firstName: 'ana', lastName: 'Synced', attributes: { roles: ['dev'] } });
    await kc.users.update({ id: ben }, { email: `${name('ben')}@example.com`, firstName: 'ben', lastName: 'Synced', attributes: {} });
    const after = await syncNow();
    expect(after).toMatchObject({ status: 'applied', counts: { usersUpdated: 2, propertiesChanged: 1, propertiesRemoved: 2, usersCreated: 0 } });
    expect(await propertiesOf(ana)).toEqual({ roles: 'dev', badge: '42' });
    expect(await propertiesOf(ben)).toEqual({});
    const afterAudit = await auditOf(after.id);
    expect(after.directoryWrites).toBe(afterAudit.length);
    expect(afterAudit.map((a) => a.action).sort()).toEqual(['property.changed', 'property.removed', 'property.removed']);
    expect(afterAudit.find((a) => a.action === 'property.removed' && a.targetId === `${anaId}:department`)).toMatchObject({
      before: { department: 'R&D' },
      after: null,
    });

    // And that is stable too.
    expect(await syncNow()).toMatchObject({ status: 'applied', directoryWrites: 0 });
  });

  it("leaves out one user's attribute of too many or too large values and applies the rest of the run (attacker review: it failed every run)", async () => {
    const many = await kcUser('mallory', { roles: Array.from({ length: 1001 }, (_, i) => `r${i}`), department: ['Ops'] });
    const large = await kcUser('oscar', { roles: Array.from({ length: 60 }, (_, i) => `${i}`.padEnd(2000, 'x')) });
    const honest = await kcUser('honest', { department: ['Eng'] });
    const r = await syncNow();
    expect(r).toMatchObject({ status: 'applied' });
    expect(await byExternal(honest)).toBeDefined();
    expect(await propertiesOf(many)).toEqual({ department: 'Ops' });
    expect(await propertiesOf(large)).toEqual({});
    expect(r.plan.namesRefused.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'value', name: 'properties.roles', externalId: many, reason: expect.stringMatching(/1001 values, more than 100/) }),
        expect.objectContaining({ kind: 'value', name: 'properties.roles', externalId: large, reason: expect.stringMatching(/bytes, more than 16384/) }),
      ]),
    );
    // And again: the left-out values are neither written nor removed, run after run.
    expect(await syncNow()).toMatchObject({ status: 'applied', directoryWrites: 0 });
  });
});
