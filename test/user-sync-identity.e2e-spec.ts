import type KcAdminClient from '@keycloak/keycloak-admin-client';
import { connect, JSONCodec, NatsConnection } from 'nats';
import { createEvent, Envelope, UserAuthenticatedV1, UserProvisionedV1, UserRejectedV1 } from '@bridgekeeper/contracts';
import { createTestDatabase, freePort, saveAdminEventsFor, startNats, TestDatabase, TestNats, waitFor } from '@bridgekeeper/testing';
import { KEYCLOAK, keycloakAdmin } from './support/keycloak';
import { createAdminToken, Stack } from './support/stack';
import { adminCall, devSyncConnector, syncRun } from './support/sync-e2e';

/**
 * User Sync identity against the real Keycloak, on both engines: a user is Keycloak's immutable
 * id, never the username. A new Keycloak user who gets a departed user's name is a new account
 * (the departed one's name is released, recorded); a name still held by an active account of
 * another id is one user's conflict, reported, and never stops the rest of the run; renames in
 * one run (swaps, chains, a new user taking a renamed user's old name) all land in that run.
 */
const run = Math.random().toString(36).slice(2, 7);

describe.each(['postgres', 'sqlite'] as const)('User Sync identity from the real Keycloak on %s', (engine) => {
  const root = `si-${run}-${engine === 'postgres' ? 'pg' : 'sl'}`;
  const name = (n: string) => `${root}-${n}`;
  let nats: TestNats;
  let pg: TestDatabase | undefined;
  let stack: Stack;
  let kc: KcAdminClient;
  let token: string;
  let rootGroup: string;
  let editUsernameAllowed: boolean | undefined;
  let nc: NatsConnection;
  const outcomes = new Map<string, Envelope<any> & { subject: string }>();
  /** An OIDC login as auth announces it (the subject is Keycloak's id), and provisioning's answer. */
  const login = async (subject: string, username: string) => {
    const event = createEvent(UserAuthenticatedV1, 'test', {
      idp: 'keycloak',
      protocol: 'oidc',
      subject,
      attributes: { preferred_username: [username] },
      traceId: crypto.randomUUID(),
    });
    await nc.jetstream().publish(UserAuthenticatedV1.subject, JSONCodec().encode(event), { msgID: event.id });
    return waitFor(`the outcome of ${username}'s login`, async () => outcomes.get(event.id), 30_000, 100);
  };
  const kcIds = new Set<string>();

  const call = adminCall(() => ({ stack, token }));
  const syncNow = (query = '') => syncRun(call, query);
  type DirUser = { id: string; username: string; externalId: string | null; active: boolean };
  const directoryUsers = async (): Promise<DirUser[]> => (await call('directory', 'GET', '/api/v1/users?source=kc&limit=200')).body.items;
  const byExternal = async (externalId: string) => (await directoryUsers()).find((u) => u.externalId === externalId);
  const groupsOf = async (id: string) => ((await call('directory', 'GET', `/api/v1/users/${id}/groups`)).body as { name: string }[]).map((g) => g.name).sort();
  const propertiesOf = async (id: string) => (await call('directory', 'GET', `/api/v1/users/${id}/properties`)).body;
  let seq = 0;
  /** A Keycloak user in the synced group; each gets an email of its own unless told (Keycloak's emails are unique too). */
  const kcUser = async (n: string, attributes?: Record<string, string[]>, email = `${name(n)}.${++seq}@example.com`) => {
    const { id } = await kc.users.create({ username: name(n), email, firstName: n, lastName: 'Synced', enabled: true, emailVerified: true, attributes });
    kcIds.add(id);
    await kc.users.addToGroup({ id, groupId: rootGroup });
    return id;
  };
  const kcDelete = async (id: string) => {
    await kc.users.del({ id });
    kcIds.delete(id);
  };
  /** Renames need the realm to allow editing usernames; another test on the shared realm may have turned that off again. */
  const kcRename = async (id: string, to: string) => {
    try {
      await kc.users.update({ id }, { username: to });
    } catch (err) {
      if (!/read-only/.test(String((err as Error).message))) throw err;
      await kc.realms.update({ realm: 'bridgekeeper' }, { editUsernameAllowed: true });
      await kc.users.update({ id }, { username: to });
    }
  };

  beforeAll(async () => {
    await waitFor('Keycloak (scripts/keycloak.sh start)', async () => (await fetch(`${KEYCLOAK}/realms/bridgekeeper`)).ok, 10_000, 500);
    kc = await keycloakAdmin();
    const profile = await kc.users.getProfile();
    if (profile.unmanagedAttributePolicy !== 'ENABLED') await kc.users.updateProfile({ ...profile, unmanagedAttributePolicy: 'ENABLED' as never });
    await saveAdminEventsFor(kc, 'bridgekeeper', 'bridgekeeper-sync');
    rootGroup = (await kc.groups.create({ name: root })).id;
    // Renames through the Admin API need the realm to allow editing usernames.
    editUsernameAllowed = (await kc.realms.findOne({ realm: 'bridgekeeper' }))?.editUsernameAllowed;
    if (!editUsernameAllowed) await kc.realms.update({ realm: 'bridgekeeper' }, { editUsernameAllowed: true });

    nats = await startNats();
    pg = engine === 'postgres' ? await createTestDatabase() : undefined;
    const ports = { auth: await freePort(), directory: await freePort(), provisioning: await freePort() };
    // A seat limit the last test reaches: a run that fails keeps what it planned.
    stack = new Stack({
      natsUrl: nats.url,
      databaseUrl: pg?.url,
      ports,
      extraEnv: { provisioning: { PROVISIONING_MODELS: 'keycloak=sync' }, directory: { DIRECTORY_SEAT_LIMIT: '30' } },
    });
    await stack.start();
    token = createAdminToken({ ...(pg ? { DATABASE_URL: pg.url } : {}), DATA_DIR: stack.dataDir });
    nc = await connect({ servers: nats.url });
    for (const subject of [UserProvisionedV1.subject, UserRejectedV1.subject]) {
      nc.subscribe(subject, {
        callback: (_e, m) => {
          const e = JSONCodec<Envelope<{ authEventId: string }>>().decode(m.data);
          outcomes.set(e.data.authEventId, { ...e, subject: m.subject });
        },
      });
    }
    const created = await call('provisioning', 'POST', '/api/v1/connectors', devSyncConnector(root, { maxRemovalShare: 1 }));
    expect(created.status).toBe(201);
  }, 120_000);

  afterAll(async () => {
    if (process.env.DEBUG_STACK) for (const s of Object.values(stack.services)) console.log(s.name, s.output.slice(-4000));
    for (const id of kcIds) await kc?.users.del({ id }).catch(() => undefined);
    if (rootGroup) await kc?.groups.del({ id: rootGroup }).catch(() => undefined);
    if (kc && !editUsernameAllowed) await kc.realms.update({ realm: 'bridgekeeper' }, { editUsernameAllowed: false }).catch(() => undefined);
    await nc?.close();
    await stack?.stop();
    await pg?.drop();
    await nats?.stop();
  });

  it("gives a new Keycloak user with a departed user's username a new account: the departed one's name is released, never its account", async () => {
    const first = await kcUser('ann', { department: ['R&D'] }, `${name('ann')}@example.com`);
    const created = await syncNow();
    expect(created).toMatchObject({ status: 'applied', counts: { usersCreated: 1 } });
    const old = (await byExternal(first))!;
    // An admin gave the account a local group and a property of its own.
    const local = await call('directory', 'POST', '/api/v1/groups', { name: `${root}-finance` });
    expect(local.status).toBe(201);
    expect((await call('directory', 'POST', '/api/v1/memberships/bulk', { add: [{ userId: old.id, groupId: local.body.id }] })).status).toBeLessThan(300);
    expect((await call('directory', 'PUT', `/api/v1/users/${old.id}/properties/desk`, { value: '7-12' })).status).toBeLessThan(300);

    await kcDelete(first);
    expect(await syncNow()).toMatchObject({ status: 'applied', counts: { usersDisabled: 1 } });
    // The same username and the same email: both are the departed user's, and both are released.
    const second = await kcUser('ann', undefined, `${name('ann')}@example.com`);
    const r = await syncNow();
    expect(r).toMatchObject({ status: 'applied', counts: { usersCreated: 1, usersUpdated: 0, usersEnabled: 0 } });
    const fresh = (await byExternal(second))!;
    expect(fresh).toMatchObject({ username: name('ann'), active: true });
    expect(fresh.id).not.toBe(old.id);
    expect(await groupsOf(fresh.id)).toEqual([root]);
    expect(await propertiesOf(fresh.id)).toEqual({});
    expect(r.plan.namesReleased).toMatchObject({
      total: 1,
      items: [{ id: old.id, externalId: first, from: name('ann'), to: expect.stringMatching(new RegExp(`^${name('ann')}~`)), emailReleased: true }],
    });
    // The departed account keeps its id, its Keycloak id, what the admin gave it, and stays disabled.
    const departed = (await byExternal(first))!;
    expect(departed).toMatchObject({ id: old.id, active: false, username: r.plan.namesReleased.items[0].to });
    expect(await groupsOf(old.id)).toEqual([root, `${root}-finance`].sort());
    expect(await propertiesOf(old.id)).toMatchObject({ desk: '7-12', department: 'R&D' });
    // The release is in the directory's audit log, by the run.
    const audit = (await call('directory', 'GET', `/api/v1/audit?targetType=user&targetId=${old.id}`)).body.items as {
      action: string;
      actor: string;
      before: any;
      after: any;
    }[];
    expect(audit.find((a) => a.actor === `sync:${r.id}`)).toMatchObject({
      action: 'user.updated',
      before: { username: name('ann') },
      after: { username: departed.username },
    });
  });

  it("lets a new Keycloak user with a departed user's username sign in at once, with an account of their own", async () => {
    const first = await kcUser('zoe');
    await syncNow();
    const old = (await byExternal(first))!;
    await kcDelete(first);
    await syncNow();
    const second = await kcUser('zoe');
    const signedIn = await login(second, name('zoe'));
    expect(signedIn).toMatchObject({ subject: 'user.provisioned', data: { user: { username: name('zoe'), active: true } } });
    expect(signedIn.data.user.id).not.toBe(old.id);
    expect(await byExternal(second)).toMatchObject({ id: signedIn.data.user.id });
    expect(await byExternal(first)).toMatchObject({ id: old.id, active: false, username: expect.stringMatching(new RegExp(`^${name('zoe')}~`)) });
  });

  it("applies a rename to a departed user's name, and one user's real conflict never stops the others", async () => {
    const bob = await kcUser('bob');
    const cat = await kcUser('cat');
    const dan = await kcUser('dan');
    await syncNow();
    // The case: bob leaves (disabled here, keeps the name), cat is renamed to bob.
    await kcDelete(bob);
    await syncNow();
    await kcRename(cat, name('bob'));
    await kc.users.update({ id: dan }, { lastName: 'Changed' });
    const renamed = await syncNow();
    expect(renamed).toMatchObject({ status: 'applied', counts: { usersUpdated: 2 } });
    expect(renamed.plan.namesReleased.items).toEqual([expect.objectContaining({ externalId: bob, from: name('bob') })]);
    expect(await byExternal(cat)).toMatchObject({ username: name('bob'), active: true });
    expect(await byExternal(bob)).toMatchObject({ username: expect.stringMatching(new RegExp(`^${name('bob')}~`)), active: false });

    // A real conflict: dan leaves Keycloak but stays active here (vanished: keep), and a new
    // Keycloak user gets his name. That user is reported, not created; the rest is applied.
    expect((await call('provisioning', 'PATCH', '/api/v1/connectors/kc', { vanished: 'keep' })).status).toBe(200);
    await kcDelete(dan);
    const newDan = await kcUser('dan');
    await kc.users.update({ id: cat }, { lastName: 'Applied' });
    const conflict = await syncNow();
    expect(conflict).toMatchObject({ status: 'applied', counts: { usersCreated: 0, usersUpdated: 1, usersConflicting: 1 } });
    expect(conflict.plan.conflicts).toMatchObject({
      total: 1,
      items: [{ externalId: newDan, username: name('dan'), reason: expect.stringContaining('another') }],
    });
    expect(await byExternal(newDan)).toBeUndefined();
    expect(await byExternal(dan)).toMatchObject({ username: name('dan'), active: true });
    expect((await call('directory', 'GET', `/api/v1/users/${(await byExternal(cat))!.id}`)).body).toMatchObject({ displayName: 'cat Applied' });
    // Their login is refused, and its trace says why.
    const refused = await login(newDan, name('dan'));
    expect(refused).toMatchObject({
      subject: 'user.rejected',
      data: { code: 'account_not_owned', reason: expect.stringContaining('held by another active user of kc') },
    });
    expect(await byExternal(newDan)).toBeUndefined();
    // And again on the next run: reported every time, never a failed run.
    expect(await syncNow()).toMatchObject({ status: 'applied', counts: { usersConflicting: 1 } });
    const metrics = (await fetch(`${stack.services.provisioning.url}/metrics`)).text();
    expect(await metrics).toMatch(/bridgekeeper_sync_user_conflicts_total\{[^}]*connector="kc"[^}]*\} 2/);
    // Once the old holder is disabled, the name is released and the new user created.
    expect((await call('provisioning', 'PATCH', '/api/v1/connectors/kc', { vanished: 'disable' })).status).toBe(200);
    const settled = await syncNow();
    expect(settled).toMatchObject({ status: 'applied', counts: { usersCreated: 1, usersDisabled: 1, usersConflicting: 0 } });
    expect(await byExternal(newDan)).toMatchObject({ username: name('dan'), active: true });
  });

  it("applies renames of one run in order: a swap, a chain, and a new user taking a renamed user's old name", async () => {
    const eve = await kcUser('eve');
    const fay = await kcUser('fay');
    const gil = await kcUser('gil');
    const hal = await kcUser('hal');
    expect(await syncNow()).toMatchObject({ status: 'applied', counts: { usersCreated: 4 } });
    // eve and fay swap names (through a name of the moment in Keycloak); hal → hal2, gil → hal, a new gil.
    await kcRename(eve, name('tmp'));
    await kcRename(fay, name('eve'));
    await kcRename(eve, name('fay'));
    await kcRename(hal, name('hal2'));
    await kcRename(gil, name('hal'));
    const newGil = await kcUser('gil');
    const r = await syncNow();
    expect(r).toMatchObject({ status: 'applied', counts: { usersCreated: 1, usersUpdated: 4, usersConflicting: 0 } });
    expect(await byExternal(eve)).toMatchObject({ username: name('fay') });
    expect(await byExternal(fay)).toMatchObject({ username: name('eve') });
    expect(await byExternal(hal)).toMatchObject({ username: name('hal2') });
    expect(await byExternal(gil)).toMatchObject({ username: name('hal') });
    expect(await byExternal(newGil)).toMatchObject({ username: name('gil'), active: true });
    expect(await syncNow()).toMatchObject({ status: 'applied', directoryWrites: 0 });

    // The same in a changes run: only the named users are read, and the new user is created at once.
    await kcRename(eve, name('tmp'));
    await kcRename(fay, name('fay'));
    await kcRename(eve, name('eve'));
    await kcRename(newGil, name('gil2'));
    const newestGil = await kcUser('gil');
    const changes = await syncNow('?mode=changes');
    expect(changes).toMatchObject({ status: 'applied', mode: 'changes', counts: { usersCreated: 1, usersUpdated: 3 } });
    expect(await byExternal(eve)).toMatchObject({ username: name('eve') });
    expect(await byExternal(fay)).toMatchObject({ username: name('fay') });
    expect(await byExternal(newGil)).toMatchObject({ username: name('gil2') });
    expect(await byExternal(newestGil)).toMatchObject({ username: name('gil'), active: true });

    // A rename to a name that looks like another user's (ha12 / hal2) is refused by the name rules; that user keeps their name, the run goes on.
    await kcRename(gil, name('ha12'));
    const lookalike = await syncNow();
    expect(lookalike).toMatchObject({
      status: 'applied',
      plan: { namesRefused: { total: 1, items: [{ kind: 'user', name: name('ha12'), externalId: gil }] } },
    });
    expect(await byExternal(gil)).toMatchObject({ username: name('hal') });
    expect((await directoryUsers()).map((u) => u.username)).not.toContainEqual(expect.stringMatching(/^moving /));
  });

  it('keeps what a failed run planned, with a final state', async () => {
    // The seat limit (30) is reached partway: the run fails, and says what it had planned (its
    // plan) and what the directory applied (its counts: the batch over the limit wrote nothing).
    const active = (await directoryUsers()).filter((u) => u.active).length;
    for (let i = 0; i < 31 - active; i++) await kcUser(`seat${i}`);
    const failed = await syncNow();
    expect(failed).toMatchObject({
      status: 'failed',
      reason: expect.stringContaining('seat limit'),
      counts: { usersCreated: 0 },
      plan: { create: { total: 31 - active } },
      progress: { phase: 'failed', percent: 100 },
    });
  });
});
