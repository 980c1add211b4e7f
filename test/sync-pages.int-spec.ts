import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INestApplication } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { connect, NatsConnection } from 'nats';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { DirectoryRpc } from '@bridgekeeper/contracts';
import { insertMany } from '@bridgekeeper/data';
import { RpcClient } from '@bridgekeeper/messaging';
import { DirectoryUserState, IdpSnapshot, SyncOptions, SyncPlanner } from '@bridgekeeper/provisioning-model';
import { createTestDatabase, startNats, TestDatabase, TestNats } from '@bridgekeeper/testing';
import { loadDirectoryConfig } from '../apps/directory/src/config/directory.config';
import { createDirectoryApp } from '../apps/directory/src/directory.app';
import { GroupEntity } from '../apps/directory/src/groups/group.entity';
import { MembershipEntity } from '../apps/directory/src/groups/membership.entity';
import { UserPropertyEntity } from '../apps/directory/src/users/user-property.entity';
import { UserEntity } from '../apps/directory/src/users/user.entity';
import { readDirectoryGroups, readDirectoryUsers } from '../apps/provisioning/src/sync/directory-state.reader';

/**
 * User Sync's read of the directory on a real nats-server (default max_payload, 1 MB) and
 * PostgreSQL, with a directory far larger than one message: 10,200 groups of ~100-character names
 * (their names alone are over 1 MB), users each in 300 groups with 18 kB of properties (~50 kB a
 * row), and one user in all 10,000 of the connector's groups (over 1 MB of group names alone).
 * Every answer fits the server's max_payload, and the plan made from the pages is the plan made
 * from the whole directory at once.
 */
describe('User Sync state pages cut by size (PostgreSQL, real NATS with its default max_payload)', () => {
  let nats: TestNats;
  let pg: TestDatabase;
  let dataDir: string;
  let app: INestApplication;
  let nc: NatsConnection;
  let rpc: RpcClient;
  /** Each answer the reads got, by subject: how many, and the largest (bytes of its JSON). */
  const answers = new Map<string, { count: number; largest: number }>();

  const SOURCE = 'kc-big';
  const GROUPS = 10_000;
  const grantLocalGroups = Array.from({ length: 50 }, (_, i) => `local-${i}`);
  const opts: SyncOptions = {
    naming: 'path',
    requiredGroups: [],
    includeSubgroups: true,
    attributes: ['attr-0', 'attr-1', 'attr-2'],
    vanished: 'disable',
    stripGroupsOfVanished: false,
    maxRemovalShare: 1,
  };
  const groupPath = (i: number) => `big/team-${i}-${'long-group-name-'.repeat(6)}`;

  type SeedGroup = { id: string; name: string; source: string; externalId: string | null };
  /** What was written, as the directory's pages must give it back. */
  const seed = { groups: [] as SeedGroup[], users: [] as DirectoryUserState[] };
  let idp: IdpSnapshot;

  /** Users whose rows came in parts (a page ended inside them). */
  const cut = new Set<string>();
  const directory = {
    syncState: async (request: z.input<typeof DirectoryRpc.syncState.request>) => {
      const page = await rpc.call(DirectoryRpc.syncState, request);
      for (const u of page.users) if (u.continued) cut.add(u.username);
      return page;
    },
    syncGroups: (request: z.input<typeof DirectoryRpc.syncGroups.request>) => rpc.call(DirectoryRpc.syncGroups, request),
  };

  beforeAll(async () => {
    nats = await startNats();
    pg = await createTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'bk-sync-pages-'));
    app = await createDirectoryApp(loadDirectoryConfig({ NATS_URL: nats.url, DATA_DIR: dataDir, LOG_LEVEL: 'silent', DATABASE_URL: pg.url }));
    app.useLogger(false);
    await app.listen(0, '127.0.0.1');
    nc = await connect({ servers: nats.url, name: 'test-sync-pages' });
    expect(nc.info?.max_payload).toBe(1024 * 1024);
    // Counts every answer's size on its way back, as the real client receives it.
    const counted = {
      nc: async () =>
        new Proxy(nc, {
          get(target, key) {
            if (key !== 'request') return Reflect.get(target, key) as unknown;
            return async (subject: string, data: Uint8Array, o: unknown) => {
              const msg = await target.request(subject, data, o as never);
              const seen = answers.get(subject) ?? { count: 0, largest: 0 };
              answers.set(subject, { count: seen.count + 1, largest: Math.max(seen.largest, msg.data.length) });
              return msg;
            };
          },
        }),
    };
    rpc = new RpcClient(counted, 60_000);
    await seedDirectory(app.get<DataSource>(getDataSourceToken()));
  }, 180_000);

  afterAll(async () => {
    await nc?.drain();
    await app?.close();
    await pg?.drop();
    await nats?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** 10,200 groups, 42 users of the connector (40 wide ones, a giant, one without an IdP id), one of another source. */
  async function seedDirectory(db: DataSource): Promise<void> {
    const now = new Date();
    const group = (name: string, source: string, externalId: string | null): SeedGroup => ({ id: crypto.randomUUID(), name, source, externalId });
    const own = Array.from({ length: GROUPS }, (_, i) => group(groupPath(i), SOURCE, `g-${i}`));
    const local = Array.from({ length: 150 }, (_, i) => group(`local-${i}`, 'local', null));
    const other = Array.from({ length: 50 }, (_, i) => group(`other-${i}`, 'kc-other', `o-${i}`));
    seed.groups = [...own, ...local, ...other];
    await insertMany(
      db.manager,
      GroupEntity,
      seed.groups.map((g) => ({ ...g, nameLower: g.name.toLowerCase(), nameSkeleton: null, nameSkeletonShown: null, description: null, createdAt: now })),
      1000,
    );

    const users: (DirectoryUserState & { source: string; memberOf: SeedGroup[] })[] = [];
    const user = (
      source: string,
      externalId: string | null,
      username: string,
      active: boolean,
      memberOf: SeedGroup[],
      properties: Record<string, string | string[]>,
    ) => {
      const u = {
        id: crypto.randomUUID(),
        source,
        externalId,
        username,
        email: `${username}@example.com`,
        displayName: `User ${username}`,
        active,
        memberOf,
        groups: [] as string[],
        otherGroups: [] as string[],
        properties,
      };
      u.groups = memberOf
        .filter((g) => g.source === source)
        .map((g) => g.name)
        .sort();
      u.otherGroups = memberOf
        .filter((g) => g.source !== source)
        .map((g) => g.name)
        .sort();
      users.push(u);
    };
    const value = (i: number, k: number) => `${k}:${i}:` + 'v'.repeat(1500);
    for (let i = 0; i < 40; i++) {
      const properties: Record<string, string | string[]> = {};
      for (let k = 0; k < 12; k++) properties[`attr-${k}`] = k === 5 ? [value(i, k), `${value(i, k)}-second`] : value(i, k);
      user(SOURCE, `kc-u-${i}`, `wide-${i}`, i !== 7, [...own.slice(i * 200, i * 200 + 300), local[i % 100], local[(i + 60) % 150], other[i % 50]], properties);
    }
    user(SOURCE, 'kc-giant', 'giant', true, [...own, local[0]], { 'attr-0': 'giant' });
    user(SOURCE, null, 'unlinked', true, [own[1]], {});
    user('kc-other', 'kc-u-0', 'not-this-source', true, [own[2], other[0]], { 'attr-0': 'x' });
    await insertMany(
      db.manager,
      UserEntity,
      users.map((u) => ({
        id: u.id,
        username: u.username,
        usernameLower: u.username.toLowerCase(),
        usernameSkeleton: null,
        usernameSkeletonShown: null,
        email: u.email,
        emailLower: u.email!.toLowerCase(),
        displayName: u.displayName,
        active: u.active,
        source: u.source,
        externalId: u.externalId,
        protected: false,
        lastLoginAt: null,
        createdAt: now,
        updatedAt: now,
      })),
    );
    await insertMany(
      db.manager,
      MembershipEntity,
      users.flatMap((u) => u.memberOf.map((g) => ({ userId: u.id, groupId: g.id, createdAt: now }))),
      2000,
    );
    await insertMany(
      db.manager,
      UserPropertyEntity,
      users.flatMap((u) =>
        Object.entries(u.properties).map(([key, v]) => ({
          userId: u.id,
          key,
          value: typeof v === 'string' ? v : JSON.stringify(v),
          list: typeof v !== 'string',
        })),
      ),
    );
    seed.users = users
      .filter((u) => u.source === SOURCE)
      .map(({ id, externalId, username, email, displayName, active, groups, otherGroups, properties }) => ({
        id,
        externalId,
        username,
        email,
        displayName,
        active,
        groups,
        otherGroups,
        properties,
      }))
      .sort((a, b) => (a.id < b.id ? -1 : 1));

    // Keycloak's side: u-35..39 gone, a new user, every wide user out of its first group and into
    // another, attr-1 changed for the even ones and attr-2 gone, the giant out of g-3, g-7 renamed.
    const idpUsers = [...Array.from({ length: 35 }, (_, i) => `kc-u-${i}`), 'kc-giant', 'kc-new'];
    const attrs = (i: number) => ({ 'attr-0': [value(i, 0)], 'attr-1': [i % 2 ? value(i, 1) : 'changed'] });
    idp = {
      users: idpUsers.map((id, i) => ({
        id,
        username: id === 'kc-giant' ? 'giant' : id === 'kc-new' ? 'new' : `wide-${i}`,
        email: null,
        firstName: null,
        lastName: null,
        enabled: true,
        attributes: id.startsWith('kc-u-') ? attrs(i) : { 'attr-0': [id] },
      })),
      groups: own.map((g, i) => ({ id: g.externalId!, path: `/${i === 7 ? 'big/renamed-7' : groupPath(i)}` })),
      members: new Map(
        own.map((g, gi) => [
          g.externalId!,
          [
            ...Array.from({ length: 35 }, (_, i) => i)
              .filter((i) => (gi > i * 200 && gi < i * 200 + 301) || gi === 9_999 - i)
              .map((i) => `kc-u-${i}`),
            ...(gi === 3 ? [] : ['kc-giant']),
            ...(gi < 5 ? ['kc-new'] : []),
          ],
        ]),
      ),
    };
  }

  /** The plan from the directory at once: one page with every user, every group known. */
  function wholePlan() {
    const planner = new SyncPlanner(idp, opts);
    const names = new Set(seed.groups.map((g) => g.name.toLowerCase()));
    planner.directoryGroups(
      seed.groups.filter((g) => g.source === SOURCE).map(({ name, externalId }) => ({ name, externalId })),
      names,
    );
    planner.add(seed.users);
    const granted = new Set(grantLocalGroups);
    const plan = planner.finish(
      names,
      new Set(seed.groups.filter((g) => g.source !== SOURCE && !(g.source === 'local' && granted.has(g.name))).map((g) => g.name.toLowerCase())),
    );
    return { plan, basis: planner.basis, directory: planner.directory };
  }

  /** The plan from the pages, as provisioning reads them (its readers, over its RPC client). */
  async function pagedPlan() {
    const planner = new SyncPlanner(idp, opts);
    const groups = await readDirectoryGroups(directory, SOURCE, grantLocalGroups);
    planner.directoryGroups(groups.own, groups.names);
    await readDirectoryUsers(directory, { source: SOURCE }, (users) => planner.add(users));
    return { plan: planner.finish(groups.names, groups.notGrantable), basis: planner.basis, directory: planner.directory };
  }

  it('a full run reads every page under max_payload, and plans exactly what the whole directory at once gives', async () => {
    answers.clear();
    cut.clear();
    const paged = await pagedPlan();
    const whole = wholePlan();
    // The plan has work of every kind, so comparing it compares something.
    expect(whole.plan).toMatchObject({
      create: [expect.objectContaining({ externalId: 'kc-new' })],
      groupsToRename: [expect.objectContaining({ externalId: 'g-7' })],
    });
    expect(whole.plan.disable.length).toBe(5); // u-35..39
    expect(whole.plan.enable.length).toBe(1); // u-7
    expect(whole.plan.update.length).toBeGreaterThan(30);
    expect(whole.plan.removeMemberships).toEqual(expect.arrayContaining([{ externalId: 'kc-giant', group: groupPath(3) }]));
    expect(paged).toEqual(whole);
    expect(paged.directory).toEqual({ users: 42, activeUsers: 41 });
    // Pages are filled (not cut small), and none is over the server's max_payload.
    for (const [, a] of answers) expect(a.largest).toBeGreaterThan(700 * 1024);
    for (const [, a] of answers) expect(a.largest).toBeLessThanOrEqual(1024 * 1024);
    // Several pages of each: groups (1.4 MB of them) and users (~3 MB); the giant (1.1 MB of group names) in parts.
    expect(answers.get(DirectoryRpc.syncGroups.subject)?.count).toBeGreaterThan(1);
    expect(answers.get(DirectoryRpc.syncState.subject)?.count).toBeGreaterThan(3);
    expect([...cut]).toEqual(['giant']);
  }, 120_000);

  it('a changes run reads the users it names in pages under max_payload: each whole, the giant included', async () => {
    answers.clear();
    const named = [...seed.users.map((u) => u.externalId).filter((id): id is string => id !== null), 'kc-not-here'];
    cut.clear();
    const users: DirectoryUserState[] = [];
    const { activeUsers } = await readDirectoryUsers(directory, { source: SOURCE, externalIds: named }, (page) => users.push(...page));
    expect(activeUsers).toBe(41);
    expect(users.sort((a, b) => (a.id < b.id ? -1 : 1))).toEqual(seed.users.filter((u) => u.externalId !== null));
    expect(answers.get(DirectoryRpc.syncState.subject)?.count).toBeGreaterThan(3);
    expect([...cut]).toEqual(['giant']);
    for (const [, a] of answers) expect(a.largest).toBeLessThanOrEqual(1024 * 1024);
  }, 120_000);
});
