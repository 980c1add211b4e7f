import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INestApplication } from '@nestjs/common';
import { z } from 'zod';
import { DirectoryRpc } from '@bridgekeeper/contracts';
import { computeSyncPlan, IdpSnapshot, SyncOptions, SyncPlanner } from '@bridgekeeper/provisioning-model';
import { createTestDatabase, RpcTestClient, startNats, TestDatabase, TestNats } from '@bridgekeeper/testing';
import { loadDirectoryConfig } from '../apps/directory/src/config/directory.config';
import { createDirectoryApp } from '../apps/directory/src/directory.app';
import { TokensService } from '../apps/directory/src/tokens/tokens.service';
import { readDirectoryGroups, readDirectoryUsers } from '../apps/provisioning/src/sync/directory-state.reader';

/**
 * A User Sync connector's groups are the IdP's groups, by id, on both engines: the directory's
 * side of a group renamed or moved at the IdP (renamed in place, swaps included, only while still
 * named as planned; a new name another group holds, or one that looks like it, is refused and the
 * group keeps its name), groups made before ids were recorded linked by name, and the sync state
 * naming each of the connector's groups with its IdP group.
 */
describe.each(['postgres', 'sqlite'] as const)('User Sync groups by IdP group id, on %s', (engine) => {
  let nats: TestNats;
  let pg: TestDatabase | undefined;
  let dataDir: string;
  let app: INestApplication;
  let base: string;
  let admin: string;
  let rpc: RpcTestClient;

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${admin}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  type Group = { id: string; name: string; source: string; externalId: string | null };
  const groups = async (): Promise<Group[]> => (await call('GET', '/api/v1/groups?limit=500')).body.items;
  const group = async (name: string) => (await groups()).find((g) => g.name === name);
  const syncApply = async (req: Record<string, unknown>) =>
    DirectoryRpc.syncApply.reply.parse(await rpc.send(DirectoryRpc.syncApply.subject, { source: 'kc', actor: 'sync:test', ...req }));
  const syncGroups = async () => DirectoryRpc.syncGroups.reply.parse(await rpc.send(DirectoryRpc.syncGroups.subject, { source: 'kc' }));
  const membersOf = async (id: string) => (await call('GET', `/api/v1/groups/${id}`)).body.members;

  beforeAll(async () => {
    nats = await startNats();
    pg = engine === 'postgres' ? await createTestDatabase() : undefined;
    dataDir = mkdtempSync(join(tmpdir(), 'bk-sync-groups-'));
    app = await createDirectoryApp(
      loadDirectoryConfig({ NATS_URL: nats.url, DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...(pg ? { DATABASE_URL: pg.url } : {}) }),
    );
    app.useLogger(false);
    await app.listen(0, '127.0.0.1');
    base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    admin = (await app.get(TokensService).create('test admin', 'admin', 'test')).token;
    rpc = await RpcTestClient.connect(nats.url);
  });

  afterAll(async () => {
    await rpc?.close();
    await app?.close();
    await pg?.drop();
    await nats?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('creates a group as its IdP group, and the sync state names it so', async () => {
    const reply = await syncApply({
      groupsToCreate: [
        { name: 'eng/backend', externalId: 'g-backend' },
        { name: 'eng/frontend', externalId: 'g-frontend' },
      ],
      upsert: [{ externalId: 'u-1', username: 'una', email: null, displayName: null, active: true, properties: {} }],
      addMemberships: [
        { externalId: 'u-1', group: 'eng/backend' },
        { externalId: 'u-1', group: 'eng/frontend' },
      ],
    });
    expect(reply).toMatchObject({ status: 'applied', writes: 5 });
    expect(await group('eng/backend')).toMatchObject({ source: 'kc', externalId: 'g-backend' });
    expect((await syncGroups()).ownGroups).toEqual(
      expect.arrayContaining([
        { name: 'eng/backend', externalId: 'g-backend' },
        { name: 'eng/frontend', externalId: 'g-frontend' },
      ]),
    );
  });

  it('renames groups in place, two of them swapping names, keeping their ids and members', async () => {
    const backend = (await group('eng/backend'))!;
    const frontend = (await group('eng/frontend'))!;
    const reply = await syncApply({
      groupsToRename: [
        { externalId: 'g-backend', from: 'eng/backend', to: 'eng/frontend' },
        { externalId: 'g-frontend', from: 'eng/frontend', to: 'eng/backend' },
      ],
    });
    expect(reply).toMatchObject({ status: 'applied', writes: 2 });
    expect(reply).not.toHaveProperty('refused');
    expect(await group('eng/frontend')).toMatchObject({ id: backend.id, externalId: 'g-backend' });
    expect(await group('eng/backend')).toMatchObject({ id: frontend.id, externalId: 'g-frontend' });
    expect(await membersOf(backend.id)).toBe(1);
    const audit = (await call('GET', `/api/v1/audit?targetId=${backend.id}`)).body;
    expect(JSON.stringify(audit)).toContain('group.updated');
  });

  it("refuses a rename into another group's name or a lookalike of one, or of a group not named as planned: the group keeps its name", async () => {
    for (const name of ['jira-users', 'jira-admins']) expect((await call('POST', '/api/v1/groups', { name })).status).toBe(201);
    const before = await groups();
    const reply = await syncApply({
      groupsToRename: [
        { externalId: 'g-backend', from: 'eng/frontend', to: 'Jira-Users' },
        { externalId: 'g-frontend', from: 'eng/backend', to: 'jira-adrnins' },
        { externalId: 'g-backend', from: 'eng/stale', to: 'eng/new' },
        { externalId: 'g-none', from: 'nothing', to: 'eng/new' },
      ],
    });
    expect(reply.status).toBe('applied');
    expect(reply).toMatchObject({ writes: 0 });
    const refused = reply.status === 'applied' ? (reply.refused ?? []) : [];
    expect(refused.map((r) => `${r.kind}:${r.name}`).sort()).toEqual(['group:Jira-Users', 'group:eng/new', 'group:eng/new', 'group:jira-adrnins']);
    expect(refused.find((r) => r.name === 'jira-adrnins')?.reason).toMatch(/looks like.*jira-admins/);
    expect(refused.find((r) => r.name === 'Jira-Users')?.reason).toMatch(/another group is named Jira-Users; the group eng\/frontend keeps its name/);
    expect(await groups()).toEqual(before);
  });

  it('a refused rename keeps the name another rename of the batch wanted', async () => {
    // g-backend (eng/frontend) would move to a name that looks like jira-users; g-frontend wants eng/frontend.
    const reply = await syncApply({
      groupsToRename: [
        { externalId: 'g-backend', from: 'eng/frontend', to: 'jira-adrnins' },
        { externalId: 'g-frontend', from: 'eng/backend', to: 'eng/frontend' },
      ],
    });
    expect(reply).toMatchObject({ status: 'applied', writes: 0 });
    expect((await group('eng/frontend'))?.externalId).toBe('g-backend');
    expect((await group('eng/backend'))?.externalId).toBe('g-frontend');
  });

  it('links a group of the connector made before ids were recorded, once; a group it creates that is here already under another name is not created again', async () => {
    // A batch as an earlier version sent it: group names only.
    expect(await syncApply({ groupsToCreate: ['legacy'] })).toMatchObject({ status: 'applied', writes: 1 });
    expect((await group('legacy'))?.externalId).toBeNull();
    expect(await syncApply({ groupsToLink: [{ name: 'Legacy', externalId: 'g-legacy' }] })).toMatchObject({ status: 'applied', writes: 1 });
    expect((await group('legacy'))?.externalId).toBe('g-legacy');
    expect(await syncApply({ groupsToLink: [{ name: 'legacy', externalId: 'g-other' }] })).toMatchObject({ status: 'applied', writes: 0 });
    // A local group is never linked.
    expect(await syncApply({ groupsToLink: [{ name: 'jira-users', externalId: 'g-jira' }] })).toMatchObject({ status: 'applied', writes: 0 });
    expect((await group('jira-users'))?.externalId).toBeNull();
    // A single user's sync names g-legacy by its new name before a run renames it: no second group.
    const count = (await groups()).length;
    expect(await syncApply({ groupsToCreate: [{ name: 'legacy-renamed', externalId: 'g-legacy' }] })).toMatchObject({ status: 'applied', writes: 0 });
    expect(await groups()).toHaveLength(count);
  });

  describe('full runs (the planner over the directory state, then the phases in order)', () => {
    const opts: SyncOptions = {
      naming: 'path',
      requiredGroups: [],
      includeSubgroups: true,
      attributes: [],
      vanished: 'disable',
      stripGroupsOfVanished: false,
      maxRemovalShare: 1,
    };
    const user = (id: string) => ({ id, username: id, email: `${id}@ex.com`, firstName: id, lastName: null, enabled: true });
    const idp = (groups: [string, string, string[]][]): IdpSnapshot => {
      const ids = [...new Set(groups.flatMap(([, , m]) => m))];
      return { users: ids.map(user), groups: groups.map(([id, path]) => ({ id, path })), members: new Map(groups.map(([id, , m]) => [id, m])) };
    };
    /** The directory's state commands, checked both ways as provisioning's client checks them. */
    const directory = {
      syncState: async (req: z.input<typeof DirectoryRpc.syncState.request>) =>
        DirectoryRpc.syncState.reply.parse(await rpc.send(DirectoryRpc.syncState.subject, DirectoryRpc.syncState.request.parse(req))),
      syncGroups: async (req: z.input<typeof DirectoryRpc.syncGroups.request>) =>
        DirectoryRpc.syncGroups.reply.parse(await rpc.send(DirectoryRpc.syncGroups.subject, DirectoryRpc.syncGroups.request.parse(req))),
    };
    /** One full run as sync.service does it: state pages into the planner (its readers), then the phases. */
    const run = async (snap: IdpSnapshot, o: Partial<SyncOptions> = {}) => {
      const planner = new SyncPlanner(snap, { ...opts, ...o });
      const groups = await readDirectoryGroups(directory, 'kc', []);
      planner.directoryGroups(groups.own, groups.names);
      await readDirectoryUsers(directory, { source: 'kc' }, (users) => planner.add(users));
      const plan = planner.finish(groups.names, groups.notGrantable);
      const replies = [];
      if (plan.groupsToCreate.length || plan.groupsToRename.length || plan.groupsToLink.length)
        replies.push(await syncApply({ groupsToRename: plan.groupsToRename, groupsToLink: plan.groupsToLink, groupsToCreate: plan.groupsToCreate }));
      if (plan.create.length || plan.update.length) replies.push(await syncApply({ upsert: [...plan.update.map((u) => u.fields), ...plan.create] }));
      if (plan.addMemberships.length) replies.push(await syncApply({ addMemberships: plan.addMemberships, groupIdentities: plan.groupIdentities }));
      if (plan.removeMemberships.length) replies.push(await syncApply({ removeMemberships: plan.removeMemberships, groupIdentities: plan.groupIdentities }));
      return { plan, replies };
    };
    const usernamesIn = async (name: string) => {
      const g = await group(name);
      if (!g) return undefined;
      const res = await call('GET', `/api/v1/groups/${g.id}/members?limit=100`);
      return (res.body.items as { username: string }[]).map((u) => u.username).sort();
    };

    it('a group whose rename the directory refuses (a lookalike of a local group) keeps its name and goes on following its Keycloak members', async () => {
      await run(
        idp([
          ['g-a', '/alpha', ['u1', 'u2']],
          ['g-s', '/staff', ['u1', 'u2', 'u3']],
        ]),
      );
      const alpha = (await group('alpha'))!;
      expect(await membersOf(alpha.id)).toBe(2);
      // Keycloak: alpha renamed to a lookalike of the local group; u2 leaves it, u3 joins.
      const r = await run(
        idp([
          ['g-a', '/jira-adrnins', ['u1', 'u3']],
          ['g-s', '/staff', ['u1', 'u2', 'u3']],
        ]),
      );
      expect(r.replies[0]).toMatchObject({
        status: 'applied',
        refused: [{ kind: 'group', name: 'jira-adrnins', reason: expect.stringMatching(/looks like/) }],
      });
      expect(await usernamesIn('alpha')).toEqual(['u1', 'u3']);
      expect((await group('alpha'))?.id).toBe(alpha.id);
    });

    it('when that refusal breaks a chain of renames, each Keycloak group keeps its own members: none land in the group that kept the name', async () => {
      await run(
        idp([
          ['g-p', '/pay-admins', ['p1']],
          ['g-q', '/q-readers', ['p2']],
          ['g-s2', '/staff2', ['p1', 'p2', 'p3']],
        ]),
      );
      const payAdmins = (await group('pay-admins'))!;
      // Keycloak: pay-admins -> lookalike of jira-admins (refused by the directory only); q-readers -> pay-admins; p3 joins q-readers.
      await run(
        idp([
          ['g-p', '/jira-adrnins', ['p1']],
          ['g-q', '/pay-admins', ['p2', 'p3']],
          ['g-s2', '/staff2', ['p1', 'p2', 'p3']],
        ]),
      );
      expect((await group('pay-admins'))!.id).toBe(payAdmins.id);
      expect(await usernamesIn('pay-admins')).toEqual(['p1']); // p3 is only in the Keycloak group g-q
    });

    it('a group named like a temporary rename name (~ and a group id) blocks no rename', async () => {
      await run(
        idp([
          ['g-t', '/target', ['t1']],
          ['g-s3', '/staff3', ['t1']],
        ]),
      );
      const target = (await group('target'))!;
      await run(
        idp([
          ['g-t', '/target', ['t1']],
          ['g-s3', '/staff3', ['t1']],
          ['g-evil', `/~${target.id}`, ['t1']],
        ]),
      );
      expect(await group(`~${target.id}`)).toBeDefined();
      const r = await run(
        idp([
          ['g-t', '/target-renamed', ['t1']],
          ['g-s3', '/staff3-renamed', ['t1']],
          ['g-evil', `/~${target.id}`, ['t1']],
        ]),
      );
      expect(r.replies[0]).toMatchObject({ status: 'applied' });
      expect(await group('target-renamed')).toMatchObject({ id: target.id });
    });

    it('a Keycloak group name in NFD is the NFC name stored: no rename planned run after run', async () => {
      const nfd = 'cafe\u0301-team';
      await run(
        idp([
          ['g-c', `/${nfd}`, ['c1']],
          ['g-s4', '/staff4', ['c1', 'c2']],
        ]),
      );
      const r = await run(
        idp([
          ['g-c', `/${nfd}`, ['c1']],
          ['g-s4', '/staff4', ['c1', 'c2']],
        ]),
      );
      expect(r.plan.groupsToRename).toEqual([]);
      expect(r.replies).toEqual([]);
    });

    it('a first-login sync after Keycloak swapped two group names puts the new user in their own group, under its name until a run renames it', async () => {
      await run(
        idp([
          ['g-x', '/x-admins', ['x1']],
          ['g-y', '/y-users', ['y1']],
        ]),
      );
      const xAdmins = (await group('x-admins'))!;
      // Keycloak swaps the names; a new user n1 joins g-y (called x-admins in Keycloak now) before the next run.
      const snap = idp([
        ['g-x', '/y-users', ['x1']],
        ['g-y', '/x-admins', ['y1', 'n1']],
      ]);
      const one = { users: snap.users.filter((u) => u.id === 'n1'), groups: snap.groups.filter((g) => g.id === 'g-y'), members: new Map([['g-y', ['n1']]]) };
      const plan = computeSyncPlan(one, [], new Set(), { ...opts, vanished: 'keep' });
      expect(
        await syncApply({
          actor: 'sync:first-login:t',
          groupsToCreate: plan.groupsToCreate,
          upsert: plan.create,
          addMemberships: plan.addMemberships,
          groupIdentities: plan.groupIdentities,
        }),
      ).toMatchObject({ status: 'applied' });
      expect(await usernamesIn('y-users')).toEqual(['n1', 'y1']);
      expect(await usernamesIn('x-admins')).toEqual(['x1']); // n1 is in g-y only, whose directory group is y-users
      expect((await group('x-admins'))!.id).toBe(xAdmins.id);
    });
  });
});
