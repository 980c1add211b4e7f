import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INestApplication } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DirectoryRpc } from '@bridgekeeper/contracts';
import { createTestDatabase, RpcTestClient, startNats, TestDatabase, TestNats } from '@bridgekeeper/testing';
import { loadDirectoryConfig } from '../src/config/directory.config';
import { createDirectoryApp } from '../src/directory.app';
import { TokensService } from '../src/tokens/tokens.service';

/**
 * Attacker's review of issue 28 (the directory as a domain): findings on the real stack
 * (PostgreSQL, nats-server). Each test states what must hold; a failing one is a finding.
 */
describe('directory writes under attack (PostgreSQL, real NATS)', () => {
  let nats: TestNats;
  let pg: TestDatabase;
  let dataDir: string;
  let app: INestApplication;
  let base: string;
  let admin: string;
  let rpc: RpcTestClient;
  let db: DataSource;

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${admin}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  const syncApply = async (req: Record<string, unknown>) =>
    DirectoryRpc.syncApply.reply.parse(
      await rpc.send(DirectoryRpc.syncApply.subject, {
        source: 'kc',
        actor: 'sync:review',
        setActive: [],
        delete: [],
        upsert: [],
        addMemberships: [],
        removeMemberships: [],
        ...req,
      }),
    );
  const row = async (externalId: string) =>
    (
      await db.query(`SELECT id, username, username_lower, email, email_lower FROM directory.users WHERE source = 'kc' AND external_id = $1`, [externalId])
    )[0] as {
      id: string;
      username: string;
      username_lower: string;
      email: string | null;
      email_lower: string | null;
    };

  beforeAll(async () => {
    nats = await startNats();
    pg = await createTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'bk-review-'));
    app = await createDirectoryApp(loadDirectoryConfig({ NATS_URL: nats.url, DATA_DIR: dataDir, LOG_LEVEL: 'silent', DATABASE_URL: pg.url }));
    app.useLogger(false);
    await app.listen(0, '127.0.0.1');
    base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    admin = (await app.get(TokensService).create('review admin', 'admin', 'test')).token;
    rpc = await RpcTestClient.connect(nats.url);
    db = app.get(getDataSourceToken());
  });

  afterAll(async () => {
    await rpc?.close();
    await app?.close();
    await pg?.drop();
    await nats?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /**
   * decideIdentities refuses a rename to a name that looks like an existing user's before it parks
   * anything, but not one that looks like ANOTHER NEW NAME of the same batch (a new user's):
   * newNameLookalikes refuses that later, after settleIdentities has written the park. The batch
   * commits with the refused item's account left as `moving <id>` (its username_lower) and its
   * email_lower null: the name and address are free for anyone else, lookups by name miss it.
   */
  it('a User Sync rename refused for looking like a new user of the same batch leaves its name and email as they were', async () => {
    const first = await syncApply({
      upsert: [{ externalId: 'kc-pat', username: 'pat.old', email: 'pat@example.com', displayName: null, active: true, properties: {} }],
    });
    expect(first.status).toBe('applied');
    const pat = await row('kc-pat');

    // A new user named `zed.bill`, and pat renamed (with a new address) to `zed.bi11`, which looks like it.
    const batch = await syncApply({
      upsert: [
        { externalId: 'kc-zed', username: 'zed.bill', email: null, displayName: null, active: true, properties: {} },
        { externalId: 'kc-pat', username: 'zed.bi11', email: 'pat.new@example.com', displayName: null, active: true, properties: {} },
      ],
    });
    expect(batch.status).toBe('applied');
    if (batch.status !== 'applied') throw new Error('unreachable');
    expect(batch.refused).toEqual([expect.objectContaining({ kind: 'user', name: 'zed.bi11', externalId: 'kc-pat' })]);

    // pat keeps its name and its address, as stored; nobody else may now take either.
    const after = await row('kc-pat');
    const squatName = await call('POST', '/api/v1/users', { username: 'PAT.OLD' });
    const squatMail = await call('POST', '/api/v1/users', { username: 'mallory', email: 'PAT@example.com' });
    expect({ after, squatName: squatName.status, squatMail: squatMail.status }).toEqual({
      after: { ...pat, username: 'pat.old', username_lower: 'pat.old', email: 'pat@example.com', email_lower: 'pat@example.com' },
      squatName: 409,
      squatMail: 409,
    });
  });

  /**
   * Two admins (or a retried script) adding the same membership at once: both read "not a member",
   * both insert; the loser's INSERT meets the primary key. Neither bulkMemberships nor setGroups
   * maps a unique violation (only users' create/update/bulk and groups' create/update do), so the
   * loser gets a 500 instead of a clean 409 (or an idempotent 200).
   */
  it('the same membership added twice at once: no 500 (bulk memberships and PUT groups)', async () => {
    const statuses: (number | string)[] = [];
    for (let round = 0; round < 5; round++) {
      const user = (await call('POST', '/api/v1/users', { username: `race.${round}` })).body.id as string;
      const group = (await call('POST', '/api/v1/groups', { name: `race.group.${round}` })).body.id as string;
      const both = await Promise.all([
        call('POST', '/api/v1/memberships/bulk', { add: [{ userId: user, groupId: group }] }),
        call('POST', '/api/v1/memberships/bulk', { add: [{ userId: user, groupId: group }] }),
        call('PUT', `/api/v1/users/${user}/groups`, { groupIds: [group] }),
        call('PUT', `/api/v1/users/${user}/groups`, { groupIds: [group] }),
      ]);
      statuses.push(...both.map((r) => (r.status >= 500 ? `${r.status} ${JSON.stringify(r.body)}` : r.status)));
    }
    expect(statuses.filter((s) => typeof s === 'string')).toEqual([]);
  });

  /**
   * One user in two IdP groups whose names differ only by case (or NFC form): both name the same
   * directory group, membershipChanges does not de-duplicate, the writer's one multi-row INSERT
   * meets the primary key, and the whole batch answers `conflict` with the database's own words
   * (`duplicate key value violates unique constraint "PK_3923edf77fc86ff52c078826b25"`) — on
   * every run, so User Sync never gets past it. (The provisioning planner de-duplicates group
   * names case-sensitively only: libs/provisioning-model/src/sync-plan.ts groupsOf.)
   */
  it('a User Sync batch naming one membership twice (case, NFC) adds it once and applies', async () => {
    await syncApply({
      groupsToCreate: ['Dup.Staff'],
      upsert: [{ externalId: 'kc-dup', username: 'dup.user', email: null, displayName: null, active: true, properties: {} }],
    });
    const reply = await syncApply({
      addMemberships: [
        { externalId: 'kc-dup', group: 'Dup.Staff' },
        { externalId: 'kc-dup', group: 'dup.staff' },
      ],
    });
    expect(reply).toMatchObject({ status: 'applied', counts: { membershipsAdded: 1 } });
  });
});

describe('licence seats under concurrent writers (PostgreSQL, DIRECTORY_SEAT_LIMIT=3)', () => {
  let nats: TestNats;
  let pg: TestDatabase;
  let dataDir: string;
  let app: INestApplication;
  let base: string;
  let admin: string;
  let rpc: RpcTestClient;
  let db: DataSource;

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${admin}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  const active = async () => Number((await db.query(`SELECT count(*) AS n FROM directory.users WHERE active`))[0].n);

  beforeAll(async () => {
    nats = await startNats();
    pg = await createTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'bk-review-seats-'));
    app = await createDirectoryApp(
      loadDirectoryConfig({ NATS_URL: nats.url, DATA_DIR: dataDir, LOG_LEVEL: 'silent', DATABASE_URL: pg.url, DIRECTORY_SEAT_LIMIT: '3' }),
    );
    app.useLogger(false);
    await app.listen(0, '127.0.0.1');
    base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    admin = (await app.get(TokensService).create('review admin', 'admin', 'test')).token;
    rpc = await RpcTestClient.connect(nats.url);
    db = app.get(getDataSourceToken());
  });

  afterAll(async () => {
    await rpc?.close();
    await app?.close();
    await pg?.drop();
    await nats?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('no path exceeds the limit, even at once: creates, bulk, enables, JIT and User Sync racing for the last seat', async () => {
    const disabled = (await call('POST', '/api/v1/users', { username: 'seat.off', active: false })).body.id as string;
    for (const username of ['seat.a', 'seat.b']) expect((await call('POST', '/api/v1/users', { username })).status).toBe(201);
    expect(await active()).toBe(2);
    const results = await Promise.all([
      call('POST', '/api/v1/users', { username: 'seat.c1' }).then((r) => r.status),
      call('POST', '/api/v1/users/bulk', { users: [{ username: 'seat.c2' }] }).then((r) => r.status),
      call('POST', `/api/v1/users/${disabled}/enable`).then((r) => r.status),
      rpc
        .send(DirectoryRpc.provisionUser.subject, {
          source: 'kc',
          externalId: 'kc-seat',
          username: 'seat.jit',
          email: null,
          displayName: null,
          groups: [],
          properties: {},
          actor: 'login:review',
        })
        .then((r) => (r as { status: string }).status),
      rpc
        .send(DirectoryRpc.syncApply.subject, {
          source: 'kc',
          actor: 'sync:review',
          upsert: [{ externalId: 'kc-sync-seat', username: 'seat.sync', email: null, displayName: null, active: true, properties: {} }],
        })
        .then((r) => (r as { status: string }).status),
    ]);
    expect(await active()).toBe(3);
    expect(results.filter((r) => r === 201 || r === 200 || r === 'provisioned' || r === 'applied')).toHaveLength(1);
  });
});
