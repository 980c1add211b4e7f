import KcAdminClient from '@keycloak/keycloak-admin-client';
import { Client } from 'pg';
import { createAdminToken, createTestDatabase, freePort, saveAdminEventsFor, Stack, startNats, waitFor } from '@bridgekeeper/testing';
import { saveServiceOutput, serviceNodeArgs, cpuReading, cpuUsed, peakRssMiB, printTable, saveResult } from './lib/harness';

const KEYCLOAK = process.env.KEYCLOAK_URL ?? 'http://127.0.0.1:8080';
/** A realm per size, so the 10k and the 100k realms are both kept (seeding 100k takes a while). */
const realmFor = (size: SyncSize) => `bk-bench-${size.users}`;
const SECRET = 'bench-sync-secret-0123456789';

export interface SyncSize {
  users: number;
  groups: number;
  membershipsPerUser: number;
}

/**
 * User Sync against the real Keycloak: a realm of its own seeded quickly (partial import), then a
 * full sync, a re-run with no change (its directory writes must be zero) and a re-run with 1% of
 * the users changed — each re-run both as a full run and as a changes run (admin events); the
 * peak RSS of provisioning and directory. Keycloak must be running (scripts/keycloak.sh start).
 */
export async function userSyncBench(size: SyncSize) {
  const kc = new KcAdminClient({ baseUrl: KEYCLOAK, realmName: 'master' });
  // Master-realm admin tokens live 60 s: sign in again before each batch of admin calls.
  const signIn = () => kc.auth({ grantType: 'password', clientId: 'admin-cli', username: 'admin', password: 'admin' });
  await signIn();
  const realm = realmFor(size);
  const seedStart = Date.now();
  const { users, seeded } = await seedRealm(kc, realm, size, signIn);
  const seedS = (Date.now() - seedStart) / 1000;

  const nats = await startNats();
  const pg = await createTestDatabase('bk_bench');
  const prof = serviceNodeArgs();
  // A Keycloak just started or just seeded can take longer than the default 15 s for its first
  // 10,000-user page (seen at 100k); the bench times runs, it does not test that limit.
  const provisioningEnv = { ...prof, PROVISIONING_KEYCLOAK_TIMEOUT_MS: '120000' };
  const stack = new Stack({
    natsUrl: nats.url,
    databaseUrl: pg.url,
    ports: { auth: await freePort(), directory: await freePort(), provisioning: await freePort() },
    extraEnv: { directory: prof, provisioning: provisioningEnv, auth: { AUTH_SAML_IDP_ID: 'bench', AUTH_SAML_IDP_NAME: 'Bench' } },
  });
  const sql = new Client({ connectionString: pg.url });
  try {
    // auth too: a connector is saved only for an IdP auth has (its SAML IdP, named `bench` here).
    await stack.start('directory', 'provisioning', 'auth');
    await sql.connect();
    const token = createAdminToken({ DATABASE_URL: pg.url, DATA_DIR: stack.dataDir });
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${stack.services.provisioning.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json().catch(() => undefined)) as any };
    };
    const created = await api('POST', '/api/v1/connectors', {
      id: 'bench',
      idp: 'bench',
      baseUrl: KEYCLOAK,
      realm,
      clientId: 'bk-sync',
      clientSecret: SECRET,
      schedule: '',
      maxRemovalShare: 0.5,
    });
    if (created.status !== 201) throw new Error(`creating the connector failed: ${JSON.stringify(created.body)}`);
    // Where a run's CPU went (two cores between them): Keycloak's java, PostgreSQL's processes, the
    // two services, the bench's nats-server.
    const cpu = () =>
      cpuReading({
        keycloak: 'java',
        postgres: 'postgres',
        directory: stack.services.directory.pid,
        provisioning: stack.services.provisioning.pid,
        nats: nats.pid,
      });
    const sync = async (label: string, mode: 'full' | 'changes' = 'full') => {
      const cpuBefore = cpu();
      const started = Date.now();
      const run = await api('POST', `/api/v1/connectors/bench/sync?mode=${mode}`);
      if (run.status !== 202) throw new Error(`${label}: ${JSON.stringify(run.body)}`);
      const done = await waitFor(
        `${label} to end`,
        async () => {
          const r = (await api('GET', `/api/v1/sync-runs/${run.body.id}`)).body;
          return r.status !== 'running' ? r : null;
        },
        30 * 60_000,
        250,
      );
      const seconds = (Date.now() - started) / 1000;
      const cpuSpent = Object.values(cpuUsed(cpuBefore, cpu()))
        .map((s) => s.toFixed(1))
        .join(' / ');
      if (done.status !== 'applied') throw new Error(`${label} ended ${done.status}: ${JSON.stringify(done.errors ?? done).slice(0, 500)}`);
      if (done.mode !== mode) throw new Error(`${label} ran ${done.mode}, not ${mode}: ${done.progress?.fullBecause ?? ''}`);
      const c = done.counts ?? {};
      return {
        run: label,
        mode,
        'users read': done.progress?.usersNamed ?? 'all',
        seconds,
        status: done.status,
        'directory writes': done.directoryWrites ?? null,
        'users +/~/-': `${c.usersCreated ?? 0}/${c.usersUpdated ?? 0}/${c.usersDisabled ?? 0}`,
        'memberships +/-': `${c.membershipsAdded ?? 0}/${c.membershipsRemoved ?? 0}`,
        'phases, s': Object.entries((done.progress?.timingsMs ?? {}) as Record<string, number>)
          .map(([phase, ms]) => `${phase} ${(ms / 1000).toFixed(1)}`)
          .join(' · '),
        'CPU s: keycloak / postgres / directory / provisioning / nats': cpuSpent,
      };
    };

    // Full runs read the whole realm; changes runs read what Keycloak's admin events name since
    // the last applied run. Each 1% change is made through the Admin API, as an admin would.
    const onePercent = Math.max(1, Math.round(users.length / 100));
    // A run's directory events are published by the directory's outbox relay after the run has
    // applied; the next run starts once they are all out, so that it is timed on its own (a
    // re-run an hour later does not share the machine with the publishing) — and the time the
    // publishing took after the run is a figure of its own.
    const unpublished = async () => (await sql.query(`SELECT count(*)::int AS n FROM directory.outbox_batches WHERE published_at IS NULL`)).rows[0].n as number;
    const drained = async (row: Record<string, unknown>) => {
      const started = Date.now();
      await waitFor('the directory events to be published', async () => (await unpublished()) === 0, 60 * 60_000, 500);
      row['events published after, s'] = ((Date.now() - started) / 1000).toFixed(1);
      return row;
    };
    const rows = [await drained(await sync('full sync'))];
    rows.push(await drained(await sync('re-run, no change')));
    rows.push(await drained(await sync('re-run, no change', 'changes')));
    await signIn();
    await changeUsers(kc, realm, users.slice(0, onePercent));
    rows.push(await drained(await sync(`re-run, 1% changed (${onePercent} users)`, 'changes')));
    await signIn();
    await changeUsers(kc, realm, users.slice(onePercent, 2 * onePercent));
    rows.push(await drained(await sync(`re-run, 1% changed (${onePercent} users)`)));
    const rss = { provisioning: peakRssMiB(stack.services.provisioning.pid!), directory: peakRssMiB(stack.services.directory.pid!) };
    const [dirUsers] = (await sql.query(`SELECT count(*)::int AS n FROM directory.users WHERE source = 'bench'`)).rows;
    printTable(
      `User Sync: ${size.users} users, ${size.groups} groups, ${size.users * size.membershipsPerUser} memberships (Keycloak realm ${seeded ? `seeded in ${seedS.toFixed(0)} s by partial import` : 'reused'})`,
      rows,
    );
    console.log(`  directory users from the sync: ${dirUsers.n}; peak RSS provisioning ${rss.provisioning} MiB, directory ${rss.directory} MiB`);
    saveResult(`user-sync-${size.users}`, { size, seeded, seedSeconds: seedS, runs: rows, peakRssMiB: rss, directoryUsers: dirUsers.n });
  } finally {
    await sql.end().catch(() => undefined);
    await stack.stop();
    saveServiceOutput('user-sync', stack);
    await pg.drop();
    await nats.stop();
  }
}

/** A realm of its own: the sync client with its service account, groups, users and memberships. */
async function seedRealm(
  kc: KcAdminClient,
  realm: string,
  size: SyncSize,
  signIn: () => Promise<void>,
): Promise<{ users: { id: string; username: string }[]; seeded: boolean }> {
  // A realm seeded earlier with the same size is reused (seeding 100k users takes a while).
  const marker = `${size.users}/${size.groups}/${size.membershipsPerUser}`;
  const existing = await kc.realms.findOne({ realm });
  if (existing?.attributes?.bkBenchSize === marker) {
    await saveAdminEventsFor(kc, realm, 'bk-sync'); // a realm seeded before changes runs existed
    return { users: await listUsers(kc, realm, size, signIn), seeded: false };
  }
  if (existing) await kc.realms.del({ realm });
  const parents = Math.max(1, Math.round(size.groups / 10));
  const perParent = Math.max(0, Math.round((size.groups - parents) / parents));
  const paths: string[] = [];
  const groups = Array.from({ length: parents }, (_, p) => {
    paths.push(`/dept-${p}`);
    return {
      name: `dept-${p}`,
      path: `/dept-${p}`,
      subGroups: Array.from(
        { length: perParent },
        (_, c) => (paths.push(`/dept-${p}/team-${p}-${c}`), { name: `team-${p}-${c}`, path: `/dept-${p}/team-${p}-${c}` }),
      ),
    };
  });
  // Groups come with the realm (Keycloak 26's partial import of nested groups fails); users by partial import.
  await kc.realms.create({
    realm,
    enabled: true,
    groups,
    attributes: { bkBenchSize: marker },
    clients: [
      {
        clientId: 'bk-sync',
        enabled: true,
        publicClient: false,
        secret: SECRET,
        serviceAccountsEnabled: true,
        standardFlowEnabled: false,
        directAccessGrantsEnabled: false,
      },
    ],
    users: [
      {
        username: 'service-account-bk-sync',
        enabled: true,
        serviceAccountClientId: 'bk-sync',
        clientRoles: { 'realm-management': ['view-users', 'query-groups', 'view-events'] },
      },
    ],
  });
  for (let start = 0; start < size.users; start += 1000) {
    const chunk = Array.from({ length: Math.min(1000, size.users - start) }, (_, k) => {
      const i = start + k;
      return {
        username: `user-${i}`,
        enabled: true,
        email: `user-${i}@bench.example.com`,
        emailVerified: true,
        firstName: 'Bench',
        lastName: `User ${i}`,
        groups: Array.from({ length: size.membershipsPerUser }, (_, m) => paths[(i * 7 + m * 13) % paths.length]).filter((v, x, a) => a.indexOf(v) === x),
      };
    });
    await signIn();
    await kc.realms.partialImport({ realm, rep: { ifResourceExists: 'SKIP', users: chunk } as never });
  }
  await saveAdminEventsFor(kc, realm, 'bk-sync'); // after seeding: the import's events would only slow it
  return { users: await listUsers(kc, realm, size, signIn), seeded: true };
}

async function listUsers(kc: KcAdminClient, realm: string, size: SyncSize, signIn: () => Promise<void>): Promise<{ id: string; username: string }[]> {
  const out: { id: string; username: string }[] = [];
  await signIn();
  for (let first = 0; first < size.users + 1; first += 1000) {
    for (const u of await kc.users.find({ realm, first, max: 1000, briefRepresentation: true }))
      if (u.username?.startsWith('user-')) out.push({ id: u.id!, username: u.username });
  }
  return out;
}

async function changeUsers(kc: KcAdminClient, realm: string, users: { id: string; username: string }[]): Promise<void> {
  const stamp = Date.now().toString(36);
  for (const u of users)
    await kc.users.update({ realm, id: u.id }, { lastName: `Changed ${stamp} ${u.username}`, email: `${u.username}.${stamp}@bench.example.com` });
}
