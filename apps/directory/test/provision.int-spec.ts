import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource, In, Like } from 'typeorm';
import { DirectoryRpc, ProvisionUserRequest, STREAMS } from '@bridgekeeper/contracts';
import { NatsConnectionService, RpcServer } from '@bridgekeeper/messaging';
import { createTestDatabase, RpcTestClient, startNats, TestDatabase, TestNats, waitFor } from '@bridgekeeper/testing';
import { AppModule } from '../src/app.module';
import { AuditEntryEntity } from '@bridgekeeper/data';
import { loadDirectoryConfig } from '../src/config/directory.config';
import { GroupEntity } from '../src/groups/group.entity';
import { MembershipEntity } from '../src/groups/membership.entity';
import { outboxBatch, OutboxBatchEntity, outboxRow } from '../src/outbox/outbox-batch.entity';
import { OutboxRelay } from '../src/outbox/outbox.relay';
import { UserEntity } from '../src/users/user.entity';

const alice = (over: Partial<ProvisionUserRequest> = {}): ProvisionUserRequest => ({
  source: 'keycloak',
  externalId: 'kc-alice',
  username: 'alice',
  email: 'alice@example.com',
  displayName: 'Alice Liddell',
  groups: ['engineering/backend', 'staff'],
  properties: {},
  actor: 'login:test',
  ...over,
});

describe.each(['postgres', 'sqlite'] as const)('directory provisioning commands on %s', (engine) => {
  let nats: TestNats;
  let pg: TestDatabase | undefined;
  let dataDir: string;
  let app: INestApplication;
  let client: RpcTestClient;
  let db: DataSource;

  const provision = async (req: ProvisionUserRequest) => DirectoryRpc.provisionUser.reply.parse(await client.send(DirectoryRpc.provisionUser.subject, req));

  beforeAll(async () => {
    nats = await startNats();
    dataDir = mkdtempSync(join(tmpdir(), 'bk-dir-'));
    pg = engine === 'postgres' ? await createTestDatabase() : undefined;
    const config = loadDirectoryConfig({ NATS_URL: nats.url, DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...(pg ? { DATABASE_URL: pg.url } : {}) });
    const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot(config)] }).compile();
    app = moduleRef.createNestApplication({ logger: ['error'] });
    await app.init();
    await app.get(RpcServer).serve();
    db = app.get(getDataSourceToken());
    client = await RpcTestClient.connect(nats.url);
  });

  afterAll(async () => {
    await client?.close();
    await app?.close();
    await pg?.drop();
    await nats?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('ran the migrations into its own schema', async () => {
    if (engine === 'postgres') {
      const rows = await db.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'directory' ORDER BY 1`);
      expect(rows.map((r: { table_name: string }) => r.table_name)).toEqual([
        'api_tokens',
        'audit_log',
        'cursor_key',
        'groups',
        'memberships',
        'migrations',
        'outbox_batches',
        'user_properties',
        'users',
      ]);
    } else {
      expect(await db.getRepository(UserEntity).count()).toBe(0);
    }
  });

  it('creates a user with groups, then updates the same user on the next login', async () => {
    const first = await provision(alice());
    expect(first).toMatchObject({ status: 'provisioned', created: true, changed: true, groups: ['engineering/backend', 'staff'], user: { username: 'alice' } });
    const again = await provision(alice());
    expect(again).toMatchObject({ status: 'provisioned', created: false, changed: false });
    const renamed = await provision(alice({ username: 'alice.l', email: 'alice.l@example.com', groups: ['staff'] }));
    expect(renamed).toMatchObject({
      status: 'provisioned',
      created: false,
      changed: true,
      groups: ['staff'],
      user: { username: 'alice.l', email: 'alice.l@example.com' },
    });
    if (first.status !== 'provisioned' || renamed.status !== 'provisioned') throw new Error('unreachable');
    expect(renamed.user.id).toBe(first.user.id);
    expect(await db.getRepository(UserEntity).countBy({ externalId: 'kc-alice' })).toBe(1);
    const audit = await db.getRepository(AuditEntryEntity).find({ where: { targetId: Like(`${first.user.id}%`) }, order: { at: 'ASC' } });
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['user.created', 'membership.added', 'user.updated', 'membership.removed']));
  });

  it('notes only the last-login time on a repeat login that changes nothing; any difference is applied and audited', async () => {
    const req = alice({ externalId: 'kc-frank', username: 'frank', email: 'frank@example.com', groups: ['staff', 'Ops'], properties: { department: 'ops' } });
    const first = await provision(req);
    if (first.status !== 'provisioned') throw new Error(JSON.stringify(first));
    const id = first.user.id;
    const users = db.getRepository(UserEntity);
    const auditRows = () => db.getRepository(AuditEntryEntity).countBy({ targetId: Like(`${id}%`) });
    const outboxRows = () => db.getRepository(OutboxBatchEntity).count();
    const [audit0, outbox0, login0] = [await auditRows(), await outboxRows(), (await users.findOneByOrFail({ id })).lastLoginAt!];
    await new Promise((r) => setTimeout(r, 5));

    expect(await provision(req)).toEqual({ status: 'provisioned', created: false, changed: false, groups: ['Ops', 'staff'], user: first.user });
    expect(await auditRows()).toBe(audit0);
    expect(await outboxRows()).toBe(outbox0);
    // Noted right behind the answer.
    await waitFor('the last login to be noted', async () => (await users.findOneByOrFail({ id })).lastLoginAt!.getTime() > login0.getTime(), 5000, 20);

    // A membership removed by hand, a changed property, a changed display name: each is put back and audited.
    const staff = await db.getRepository(GroupEntity).findOneByOrFail({ nameLower: 'staff' });
    await db.getRepository(MembershipEntity).delete({ userId: id, groupId: staff.id });
    expect(await provision(req)).toMatchObject({ changed: true, groups: ['Ops', 'staff'] });
    expect(await provision({ ...req, properties: { department: 'platform' } })).toMatchObject({ changed: true });
    expect(await provision({ ...req, properties: { department: 'platform' }, displayName: 'Frank F.' })).toMatchObject({
      changed: true,
      user: { displayName: 'Frank F.' },
    });
    const actions = (await db.getRepository(AuditEntryEntity).find({ where: { targetId: Like(`${id}%`) }, order: { at: 'ASC' } }))
      .map((a) => a.action)
      .slice(-3);
    expect(actions).toEqual(['membership.added', 'property.changed', 'user.updated']);

    // Disabled since the last login: refused, even though nothing else differs.
    await users.update({ id }, { active: false });
    expect(await provision({ ...req, properties: { department: 'platform' }, displayName: 'Frank F.' })).toMatchObject({ status: 'disabled' });
  });

  it('answers a login that changes nothing with a read (no audit row, event or membership written); the last login is the login’s own time and never moves back', async () => {
    const req = alice({ externalId: 'kc-grace', username: 'grace', email: 'grace@example.com', groups: ['staff'], properties: { department: 'qa' } });
    const users = db.getRepository(UserEntity);
    const counts = async () => [
      await users.count(),
      await db.getRepository(AuditEntryEntity).count(),
      await db.getRepository(OutboxBatchEntity).count(),
      await db.getRepository(MembershipEntity).count(),
    ];

    const first = await provision({ ...req, loginAt: '2026-01-02T03:04:05.000Z' });
    if (first.status !== 'provisioned') throw new Error(JSON.stringify(first));
    const id = first.user.id;
    const lastLogin = async () => (await users.findOneByOrFail({ id })).lastLoginAt!.toISOString();
    expect(await lastLogin()).toBe('2026-01-02T03:04:05.000Z');

    // Unchanged: the same answer as a full command, nothing written but the login's time.
    const settled = await counts();
    expect(await provision({ ...req, loginAt: '2026-01-03T00:00:00.000Z' })).toEqual({
      status: 'provisioned',
      created: false,
      changed: false,
      groups: ['staff'],
      user: first.user,
    });
    await waitFor('the last login to be noted', async () => (await lastLogin()) === '2026-01-03T00:00:00.000Z', 5000, 20);
    expect(await counts()).toEqual(settled);
    // An older login (a redelivery, a late one) never moves it back, on either path.
    expect(await provision({ ...req, loginAt: '2026-01-02T12:00:00.000Z' })).toMatchObject({ status: 'provisioned', changed: false });
    expect(await provision({ ...req, displayName: 'Grace H.', loginAt: '2026-01-02T13:00:00.000Z' })).toMatchObject({ status: 'provisioned', changed: true });
    await new Promise((r) => setTimeout(r, 200));
    expect(await lastLogin()).toBe('2026-01-03T00:00:00.000Z');

    // A login time ahead of the directory's clock counts as now.
    const ahead = new Date(Date.now() + 3_600_000).toISOString();
    expect(await provision({ ...req, displayName: 'Grace H.', loginAt: ahead })).toMatchObject({ status: 'provisioned', changed: false });
    await waitFor('the last login to be noted', async () => (await lastLogin()) !== '2026-01-03T00:00:00.000Z', 5000, 20);
    expect(Date.parse(await lastLogin())).toBeLessThanOrEqual(Date.now());

    // Any difference — a field, a group, a property — takes the full, audited path.
    for (const changed of [{ displayName: 'Grace Hopper' }, { groups: ['staff', 'navy'] }, { properties: { department: 'navy' } }]) {
      const audited = (await counts())[1];
      expect(await provision({ ...req, displayName: 'Grace H.', ...changed })).toMatchObject({ status: 'provisioned', changed: true });
      expect((await counts())[1]).toBeGreaterThan(audited);
      expect(await provision({ ...req, displayName: 'Grace H.' })).toMatchObject({ status: 'provisioned', changed: true });
    }
    // A disabled user is told so, and nothing is written.
    await users.update({ id }, { active: false });
    const disabled = await counts();
    expect(await provision({ ...req, displayName: 'Grace H.' })).toMatchObject({ status: 'disabled' });
    expect(await counts()).toEqual(disabled);
    expect(await users.findOneByOrFail({ id })).toMatchObject({ displayName: 'Grace H.', active: false });

    // A user in no group at all, asserted in none: unchanged.
    const loner = alice({ externalId: 'kc-lone', username: 'lone', email: 'lone@example.com', groups: [] });
    const created = await provision(loner);
    expect(await provision(loner)).toEqual({ ...created, created: false, changed: false, groups: [] });
  });

  it("pages a source's users for User Sync with their own groups and properties, whatever lies between them, and their other sources' groups apart", async () => {
    // Two sources, their users interleaved by id (random UUIDs), each with a group of its source and a property.
    for (let i = 0; i < 12; i++) {
      const source = i % 2 ? 'kc-odd' : 'kc-even';
      const r = await provision(
        alice({ source, externalId: `${source}-${i}`, username: `paged-${i}`, email: null, groups: [`grp-${source}`], properties: { n: `paged-${i}` } }),
      );
      expect(r.status).toBe('provisioned');
    }
    // paged-4 of kc-even also belongs to kc-odd's group (joined by name): that one is not kc-even's to manage.
    const oddGroup = await db.getRepository(GroupEntity).findOneByOrFail({ nameLower: 'grp-kc-odd' });
    const paged4 = await db.getRepository(UserEntity).findOneByOrFail({ usernameLower: 'paged-4' });
    await db.getRepository(MembershipEntity).insert({ userId: paged4.id, groupId: oddGroup.id, createdAt: new Date() });
    const seen: { username: string; groups: string[]; otherGroups: string[]; properties: Record<string, string | string[]> }[] = [];
    let cursor: string | undefined;
    do {
      const page = DirectoryRpc.syncState.reply.parse(await client.send(DirectoryRpc.syncState.subject, { source: 'kc-even', cursor, limit: 2 }));
      seen.push(...page.users.map(({ username, groups, otherGroups, properties }) => ({ username, groups, otherGroups, properties })));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen.map((u) => u.username).sort()).toEqual(['paged-0', 'paged-10', 'paged-2', 'paged-4', 'paged-6', 'paged-8']);
    for (const u of seen)
      expect(u).toEqual({
        username: u.username,
        groups: ['grp-kc-even'],
        otherGroups: u.username === 'paged-4' ? ['grp-kc-odd'] : [],
        properties: { n: u.username },
      });
  });

  it("answers a changes run with just the users it names, and the source's active-user count", async () => {
    for (let i = 0; i < 4; i++)
      expect(
        (
          await provision(
            alice({
              source: 'kc-named',
              externalId: `named-${i}`,
              username: `named-${i}`,
              email: null,
              groups: [`grp-named-${i % 2}`],
              properties: { n: `${i}` },
            }),
          )
        ).status,
      ).toBe('provisioned');
    await db.getRepository(UserEntity).update({ usernameLower: 'named-3' }, { active: false });
    const state = (externalIds: string[]) =>
      client.send(DirectoryRpc.syncState.subject, { source: 'kc-named', externalIds }).then((r) => DirectoryRpc.syncState.reply.parse(r));
    const page = await state(['named-2', 'named-0', 'not-here', 'kc-even-0']);
    expect(
      page.users.map(({ username, groups, properties }) => ({ username, groups, properties })).sort((a, b) => a.username.localeCompare(b.username)),
    ).toEqual([
      { username: 'named-0', groups: ['grp-named-0'], properties: { n: '0' } },
      { username: 'named-2', groups: ['grp-named-0'], properties: { n: '2' } },
    ]);
    expect(page).toMatchObject({ activeUsers: 3, nextCursor: null });
    expect(await state([])).toMatchObject({ users: [], activeUsers: 3 });
    // With a cursor (a later page of the same answer): the named users after it, no count again.
    const [first, second] = [...page.users].sort((a, b) => (a.id < b.id ? -1 : 1));
    const later = DirectoryRpc.syncState.reply.parse(
      await client.send(DirectoryRpc.syncState.subject, { source: 'kc-named', cursor: first.id, externalIds: ['named-2', 'named-0'] }),
    );
    expect(later).toEqual({ users: [second], nextCursor: null });
    // The cursor is a user's id, or one and a count (issue 25): anything else is refused before a query, not an empty or a wrong page.
    for (const cursor of [
      'zzzz',
      "' OR 1=1 --",
      '0192f3a4-5b6c-7d8e-9f01-23456789abcdX',
      '',
      `${page.users[0].id}:0`,
      `${page.users[0].id}:-1`,
      `${page.users[0].id}:1 OR 1=1`,
    ]) {
      await expect(client.send(DirectoryRpc.syncState.subject, { source: 'kc-named', cursor })).rejects.toBeDefined();
    }
  });

  it('deletes published events once past the retention, and never one still to publish', async () => {
    const relay = app.get(OutboxRelay);
    await relay.drain();
    const outbox = db.getRepository(OutboxBatchEntity);
    const now = new Date('2026-11-29T12:00:00Z');
    const hoursAgo = (h: number) => new Date(now.getTime() - h * 3600_000);
    const row = (id: string, createdAt: Date, publishedAt: Date | null) => ({
      ...outboxRow([{ msgId: id, subject: 'directory.user.updated', data: '{}' }], createdAt),
      publishedAt,
    });
    await outbox.insert([
      row('prune-old', hoursAgo(30), hoursAgo(25)),
      row('prune-recent', hoursAgo(30), hoursAgo(23)),
      row('prune-unpublished', hoursAgo(30), null),
    ]);
    expect(await relay.prune(now)).toBeGreaterThanOrEqual(1);
    const left = (await outbox.findBy({ id: Like('prune-%') })).map((r) => r.id).sort();
    expect(left).toEqual(['prune-recent', 'prune-unpublished']);
    await outbox.delete({ id: Like('prune-%') });
  });

  it('publishes what it committed from memory; after a failed publish, the table first, so older events still go first', async () => {
    const relay = app.get(OutboxRelay);
    await relay.drain();
    const outbox = db.getRepository(OutboxBatchEntity);
    const t0 = Date.now();
    const row = (at: number, subject = 'directory.user.updated') => outboxRow([{ msgId: crypto.randomUUID(), subject, data: '{}' }], new Date(t0 + at));
    const commit = async (r: OutboxBatchEntity) => {
      await outbox.insert(r);
      relay.committed([outboxBatch(r)]);
    };
    // No stream takes this subject: its publish fails, and stays failing until the row is fixed.
    const older = row(0, 'bk-test.no-stream');
    await commit(older);
    await expect(relay.drain()).rejects.toThrow();
    await outbox.update({ id: older.id }, { events: older.events.replace(' bk-test.no-stream ', ' directory.user.updated ') });
    const middle = row(1);
    await commit(middle);
    const newer = row(2);
    await commit(newer);
    await relay.drain();
    const fromMemory = row(3);
    await commit(fromMemory);
    await relay.drain();
    const ids = [older, middle, newer, fromMemory].map((r) => r.id);
    expect((await outbox.findBy({ id: In(ids) })).filter((r) => r.publishedAt !== null)).toHaveLength(4);
    // The stream holds each once, oldest first.
    const jsm = await app.get(NatsConnectionService).manager();
    const last = (await jsm.streams.info(STREAMS.DIRECTORY.name)).state.last_seq;
    const inStream: string[] = [];
    for (let seq = Math.max(1, last - 20); seq <= last; seq++) {
      const id = (await jsm.streams.getMessage(STREAMS.DIRECTORY.name, { seq })).header.get('Nats-Msg-Id');
      if (ids.includes(id)) inStream.push(id);
    }
    expect(inStream).toEqual(ids);
    await outbox.delete({ id: In(ids) });
  });

  it('publishes a row once when the table gives it back before the commit reports it (plain subscribers see it once)', async () => {
    const relay = app.get(OutboxRelay);
    await relay.drain();
    const outbox = db.getRepository(OutboxBatchEntity);
    const nc = await app.get(NatsConnectionService).nc();
    const seen: string[] = [];
    const sub = nc.subscribe('directory.user.updated', { callback: (_e, m) => seen.push(m.headers?.get('Nats-Msg-Id') ?? '') });
    const r = outboxRow([{ msgId: crypto.randomUUID(), subject: 'directory.user.updated', data: '{}' }], new Date());
    await outbox.insert(r);
    relay.tick(); // the interval's read of the table comes first, between the commit and committed()
    await relay.drain();
    relay.committed([outboxBatch(r)]);
    await relay.drain();
    await nc.flush();
    sub.unsubscribe();
    expect(seen.filter((id) => id === r.id)).toEqual([r.id]);
    expect((await outbox.findOneByOrFail({ id: r.id })).publishedAt).not.toBeNull();
    await outbox.delete({ id: r.id });
  });

  it('writes one outbox row per transaction and publishes each of its events on its own subject, under its own id, in order', async () => {
    const relay = app.get(OutboxRelay);
    await relay.drain();
    const nc = await app.get(NatsConnectionService).nc();
    const seen: { subject: string; msgId: string; id: string; targetId: string }[] = [];
    const sub = nc.subscribe('directory.>', {
      callback: (_e, m) => {
        const event = JSON.parse(Buffer.from(m.data).toString('utf8'));
        seen.push({ subject: m.subject, msgId: m.headers?.get('Nats-Msg-Id') ?? '', id: event.id, targetId: event.data.targetId });
      },
    });
    const outbox = db.getRepository(OutboxBatchEntity);
    const rowsBefore = await outbox.count();
    const reply = await provision(
      alice({
        externalId: 'kc-batch',
        username: 'batch.user',
        email: 'batch@example.com',
        groups: ['batch-a', 'batch-b'],
        properties: { department: 'batching\nsecond line' },
      }),
    );
    if (reply.status !== 'provisioned') throw new Error(JSON.stringify(reply));
    await relay.drain();
    await nc.flush();
    sub.unsubscribe();
    expect(await outbox.count()).toBe(rowsBefore + 1);
    const mine = seen.filter((e) => e.targetId === reply.user.id || e.targetId.startsWith(`${reply.user.id}:`) || e.subject === 'directory.group.created');
    expect(mine.map((e) => e.subject)).toEqual([
      'directory.user.created',
      'directory.group.created',
      'directory.group.created',
      'directory.membership.added',
      'directory.membership.added',
      'directory.property.changed',
    ]);
    expect(mine.every((e) => e.msgId === e.id)).toBe(true);
    expect(new Set(mine.map((e) => e.id)).size).toBe(mine.length);
    const row = await outbox.findOneByOrFail({ id: mine[0].id });
    expect(row.publishedAt).not.toBeNull();
    expect(outboxBatch(row).messages.map((m) => m.msgId)).toEqual(mine.map((e) => e.id));
    // A line break inside a value travels escaped in the event's JSON, and comes back whole.
    expect(JSON.parse(outboxBatch(row).messages[5].data).data.after).toEqual({ department: 'batching\nsecond line' });
  });

  it('never removes memberships of local groups', async () => {
    const reply = await provision(alice({ externalId: 'kc-carol', username: 'carol', email: null, groups: ['staff'] }));
    if (reply.status !== 'provisioned') throw new Error(JSON.stringify(reply));
    const now = new Date();
    await db
      .getRepository(GroupEntity)
      .insert({ id: crypto.randomUUID(), name: 'jira-admins', nameLower: 'jira-admins', description: null, source: 'local', createdAt: now });
    const local = await db.getRepository(GroupEntity).findOneByOrFail({ name: 'jira-admins' });
    await db.getRepository(MembershipEntity).insert({ userId: reply.user.id, groupId: local.id, createdAt: now });
    const next = await provision(alice({ externalId: 'kc-carol', username: 'carol', email: null, groups: [] }));
    expect(next).toMatchObject({ status: 'provisioned', groups: ['jira-admins'] });
  });

  it('answers disabled for a disabled user and changes nothing', async () => {
    await provision(alice({ externalId: 'kc-dave', username: 'dave', email: null, groups: ['staff'] }));
    await db.getRepository(UserEntity).update({ usernameLower: 'dave' }, { active: false });
    const reply = await provision(alice({ externalId: 'kc-dave', username: 'dave', email: 'new@example.com', groups: [] }));
    expect(reply).toMatchObject({ status: 'disabled', user: { username: 'dave', active: false } });
    expect((await db.getRepository(UserEntity).findOneByOrFail({ usernameLower: 'dave' })).email).toBeNull();
  });

  it('refuses to take over a username that belongs to another account', async () => {
    const reply = await provision(alice({ externalId: 'kc-someone-else', username: 'Alice.L' }));
    expect(reply).toMatchObject({ status: 'error', code: 'account_not_owned', message: expect.stringContaining('another subject') });
  });

  it('refuses an invalid command, naming the field', async () => {
    const reply = await client.send(DirectoryRpc.provisionUser.subject, { ...alice(), username: '' });
    expect(reply).toMatchObject({ status: 'error', code: 'invalid_request', message: expect.stringContaining('username') });
  });

  it('creates one user when the same first login arrives twice at once', async () => {
    const req = alice({ externalId: 'kc-erin', username: 'erin', email: 'erin@example.com', groups: ['new-group-a', 'new-group-b'] });
    const replies = await Promise.all([provision(req), provision(req), provision(req)]);
    expect(replies.every((r) => r.status === 'provisioned')).toBe(true);
    expect(await db.getRepository(UserEntity).countBy({ usernameLower: 'erin' })).toBe(1);
    expect(await db.getRepository(GroupEntity).countBy({ name: 'new-group-a' })).toBe(1);
  });
});
