import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INestApplication } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DirectoryRpc, ProvisionUserRequest } from '@bridgekeeper/contracts';
import { createTestDatabase, RpcTestClient, startNats, TestDatabase, TestNats } from '@bridgekeeper/testing';
import { loadDirectoryConfig } from '../src/config/directory.config';
import { createDirectoryApp } from '../src/directory.app';
import { GroupEntity } from '../src/groups/group.entity';
import { TokensService } from '../src/tokens/tokens.service';
import { UserEntity } from '../src/users/user.entity';

/**
 * Names and values the directory takes from logins (JIT) and User Sync, which an IdP's users and
 * administrators choose (issues 25/26, F1, F2, F4, F5), on both engines: one over-long name or a
 * value with a NUL is left out with a notice, never failing the login or the batch; a listing never
 * answers 500 on what is stored; lookalikes the rules missed are refused.
 */
describe.each(['postgres', 'sqlite'] as const)('untrusted names and values from logins and User Sync, on %s', (engine) => {
  let nats: TestNats;
  let pg: TestDatabase | undefined;
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
    return { status: res.status, body: text ? JSON.parse(text) : undefined, type: res.headers.get('content-type') ?? '' };
  };
  const send = async (subject: string, req: unknown) => rpc.send(subject, req);
  const syncApply = async (req: Record<string, unknown>) =>
    DirectoryRpc.syncApply.reply.parse(await send(DirectoryRpc.syncApply.subject, { source: 'kc', actor: 'sync:test', ...req }));
  const provision = async (over: Partial<ProvisionUserRequest>) =>
    DirectoryRpc.provisionUser.reply.parse(
      await send(DirectoryRpc.provisionUser.subject, {
        source: 'jit',
        externalId: 'jit-1',
        username: 'jit.one',
        email: null,
        displayName: null,
        groups: [],
        properties: {},
        actor: 'login:test',
        ...over,
      }),
    );
  /** Every item of a listing, page by page (`limit` each), and the statuses it answered. */
  const everyPage = async (path: string, limit: number) => {
    const items: { id: string; name?: string; username?: string }[] = [];
    const statuses: number[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 100; i++) {
      const res = await call('GET', `${path}${path.includes('?') ? '' : '?'}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      statuses.push(res.status);
      if (res.status !== 200) break;
      items.push(...res.body.items);
      cursor = res.body.nextCursor;
      if (!cursor) break;
    }
    return { items, statuses };
  };
  const user = async (username: string) => (await call('GET', `/api/v1/users?limit=500`)).body.items.find((u: { username: string }) => u.username === username);
  const groupNames = async () => (await call('GET', '/api/v1/groups?limit=500')).body.items.map((g: { name: string }) => g.name);

  beforeAll(async () => {
    nats = await startNats();
    pg = engine === 'postgres' ? await createTestDatabase() : undefined;
    dataDir = mkdtempSync(join(tmpdir(), 'bk-untrusted-'));
    app = await createDirectoryApp(
      loadDirectoryConfig({ NATS_URL: nats.url, DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...(pg ? { DATABASE_URL: pg.url } : {}) }),
    );
    app.useLogger(false);
    await app.listen(0, '127.0.0.1');
    base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    admin = (await app.get(TokensService).create('test admin', 'admin', 'test')).token;
    db = app.get(getDataSourceToken());
    rpc = await RpcTestClient.connect(nats.url);
    for (const username of ['bill', 'bob']) expect((await call('POST', '/api/v1/users', { username })).status).toBe(201);
    for (const name of ['Billing', 'staff']) expect((await call('POST', '/api/v1/groups', { name })).status).toBe(201);
  });

  afterAll(async () => {
    await rpc?.close();
    await app?.close();
    await pg?.drop();
    await nats?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const longGroup = '\uFB2C'.repeat(255); // 255 code units; 765 in NFC

  it('F1: a login with a group whose name NFC makes longer than 255 leaves it out with a notice; the login works', async () => {
    const reply = await provision({ groups: [longGroup, 'staff-jit'] });
    expect(reply).toMatchObject({ status: 'provisioned', groups: ['staff-jit'] });
    expect(reply.status === 'provisioned' && reply.notices).toEqual(
      expect.arrayContaining([expect.objectContaining({ code: 'name_refused', reason: expect.stringMatching(/longer than 255 characters \(765 in NFC\)/) })]),
    );
    expect((await groupNames()).some((n: string) => n.length > 255)).toBe(false);
  });

  it('F1/F2: a login with an over-long username is a clear name_refused, not a crash', async () => {
    expect(await provision({ externalId: 'jit-long', username: '\uFB2C'.repeat(200) })).toEqual({
      status: 'error',
      code: 'name_refused',
      message: 'username: is longer than 255 characters (600 in NFC)',
    });
    expect(await provision({ externalId: 'jit-longer', username: 'a'.repeat(300) })).toEqual({
      status: 'error',
      code: 'name_refused',
      message: 'username: is longer than 255 characters (300 in NFC)',
    });
  });

  it('F1: a listing never answers 500 on what a column holds: a group with the longest stored name pages like any other', async () => {
    // Rows as an older writer could leave them (no check of the length after NFC): the longest name
    // each engine stores (PostgreSQL counts code points; SQLite keeps any length).
    const stored = engine === 'sqlite' ? longGroup.normalize('NFC') : '\u{1D49C}'.repeat(255);
    const storedLower = engine === 'sqlite' ? stored.toLowerCase() : 'a'.repeat(200) + '\u{10428}'.repeat(55);
    for (const [i, name, lower] of [
      [1, stored, storedLower],
      [2, `${stored.slice(0, -2)}x`, `${storedLower.slice(0, -2)}x`],
    ] as const) {
      await db.getRepository(GroupEntity).insert({
        id: `00000000-0000-4000-8000-00000000000${i}`,
        name,
        nameLower: lower,
        nameSkeleton: null,
        nameSkeletonShown: null,
        description: null,
        source: 'local',
        createdAt: new Date(),
      });
    }
    const all = (await call('GET', '/api/v1/groups?limit=500')).body.items.map((g: { id: string }) => g.id).sort();
    for (const limit of [1, 2, 3]) {
      const { items, statuses } = await everyPage('/api/v1/groups', limit);
      expect(statuses.every((s) => s === 200)).toBe(true);
      expect(items.map((g) => g.id).sort()).toEqual(all);
    }
  });

  it('F1: the users listing pages over the longest stored usernames too, in both directions', async () => {
    const stored = engine === 'sqlite' ? 'z'.repeat(700) : '\u{1D4CF}'.repeat(255);
    const lower = engine === 'sqlite' ? stored : 'z'.repeat(200) + '\u{10428}'.repeat(55);
    const now = new Date();
    for (const [i, suffix] of [
      [1, 'a'],
      [2, 'b'],
      [3, 'c'],
    ] as const) {
      await db.getRepository(UserEntity).insert({
        id: `00000000-0000-7000-8000-00000000010${i}`,
        username: `${stored.slice(0, -2)}${suffix}`,
        usernameLower: `${lower.slice(0, -2)}${suffix}`,
        usernameSkeleton: null,
        usernameSkeletonShown: null,
        email: null,
        emailLower: null,
        displayName: null,
        active: true,
        source: 'local',
        externalId: null,
        protected: false,
        lastLoginAt: null,
        createdAt: now,
        updatedAt: now,
      });
    }
    const all = (await call('GET', '/api/v1/users?limit=500')).body.items.map((u: { id: string }) => u.id);
    for (const sort of ['username', '-username']) {
      for (const limit of [1, 2]) {
        const { items, statuses } = await everyPage(`/api/v1/users?sort=${sort}&`, limit);
        expect(statuses.every((s) => s === 200)).toBe(true);
        expect(items.map((u) => u.id)).toEqual(sort === 'username' ? all : [...all].reverse());
      }
    }
  });

  it('F2: one over-long group in a User Sync batch is refused with its memberships; the rest applies', async () => {
    const pathGroup = `/${'a'.repeat(120)}/${'b'.repeat(140)}`;
    const created = await syncApply({ groupsToCreate: [pathGroup, 'kc-team'] });
    expect(created).toEqual({
      status: 'applied',
      writes: 1,
      counts: expect.objectContaining({ groupsCreated: 1 }),
      refused: [{ kind: 'group', name: pathGroup, reason: 'group: is longer than 255 characters (262 in NFC)' }],
    });
    const users = await syncApply({ upsert: [{ externalId: 'kc-1', username: 'kc.one', email: null, displayName: null, active: true, properties: {} }] });
    expect(users).toMatchObject({ status: 'applied', writes: 1 });
    const moves = await syncApply({
      addMemberships: [
        { externalId: 'kc-1', group: pathGroup },
        { externalId: 'kc-1', group: 'kc-team' },
      ],
    });
    expect(moves).toMatchObject({ status: 'applied', writes: 1 });
    expect(await groupNames()).toContain('kc-team');
    expect(await groupNames()).not.toContain(pathGroup);
  });

  it('F2: users whose username, email or display name is too long are handled one at a time; the batch applies', async () => {
    const reply = await syncApply({
      upsert: [
        { externalId: 'kc-2', username: 'u'.repeat(300), email: null, displayName: null, active: true, properties: {} },
        { externalId: 'kc-3', username: 'kc.three', email: `${'e'.repeat(330)}@example.com`, displayName: null, active: true, properties: {} },
        { externalId: 'kc-4', username: 'kc.four', email: null, displayName: 'D'.repeat(300), active: true, properties: {} },
        { externalId: 'kc-5', username: 'kc.five', email: 'five@example.com', displayName: 'Five', active: true, properties: {} },
      ],
    });
    expect(reply.status).toBe('applied');
    expect(reply.status === 'applied' && reply.refused).toEqual([
      { kind: 'user', externalId: 'kc-2', name: 'u'.repeat(300), reason: 'username: is longer than 255 characters (300 in NFC)' },
      { kind: 'user', externalId: 'kc-3', name: 'kc.three', reason: 'email: is longer than 320 characters (342 in NFC)' },
      { kind: 'value', externalId: 'kc-4', name: 'displayName', reason: 'displayName: is longer than 255 characters; left out' },
    ]);
    expect(await user('kc.five')).toMatchObject({ email: 'five@example.com', displayName: 'Five' });
    expect(await user('kc.four')).toMatchObject({ displayName: null });
    expect(await user('kc.three')).toBeUndefined();
  });

  it('F4: a User Sync value with a NUL or a lone surrogate is left out, one value at a time; the batch applies', async () => {
    const reply = await syncApply({
      upsert: [
        {
          externalId: 'kc-6',
          username: 'kc.six',
          email: null,
          displayName: 'Six\u0000',
          active: true,
          properties: { dept: 'a\u0000b', team: 'red', site: 'x\ud800' },
        },
        { externalId: 'kc-7', username: 'kc.seven', email: null, displayName: null, active: true, properties: { dept: 'ops' } },
      ],
    });
    expect(reply.status).toBe('applied');
    expect(reply.status === 'applied' && reply.refused).toEqual([
      { kind: 'value', externalId: 'kc-6', name: 'displayName', reason: 'displayName: contains a NUL character; left out' },
      { kind: 'value', externalId: 'kc-6', name: 'properties.dept', reason: 'properties.dept: contains a NUL character; left out' },
      { kind: 'value', externalId: 'kc-6', name: 'properties.site', reason: 'properties.site: contains an unpaired surrogate; left out' },
    ]);
    const six = await user('kc.six');
    expect(six).toMatchObject({ displayName: null });
    expect((await call('GET', `/api/v1/users/${six.id}/properties`)).body).toEqual({ team: 'red' });
    const seven = await user('kc.seven');
    expect((await call('GET', `/api/v1/users/${seven.id}/properties`)).body).toEqual({ dept: 'ops' });
  });

  it('F4: a login value with a NUL is left out with a notice; the login works', async () => {
    const reply = await provision({ externalId: 'jit-2', username: 'jit.two', displayName: 'Two\u0000', properties: { dept: 'a\u0000b', team: 'blue' } });
    expect(reply.status).toBe('provisioned');
    expect(reply.status === 'provisioned' && reply.notices).toEqual([
      { code: 'value_refused', name: 'displayName', reason: 'not stored: contains a NUL character' },
      { code: 'value_refused', name: 'properties.dept', reason: 'not stored: contains a NUL character' },
    ]);
    const two = await user('jit.two');
    expect(two).toMatchObject({ displayName: null });
    expect((await call('GET', `/api/v1/users/${two.id}/properties`)).body).toEqual({ team: 'blue' });
  });

  it('F5: lookalikes the rules missed are refused by the admin API (400 or 409), nothing written', async () => {
    const cases: [string, number, RegExp][] = [
      ['bi\u1DF8ll', 400, /U\+1DF8 \(combining dot above left\) on U\+0069/],
      ['bi\uA7FE\uA7FE', 409, /looks like the existing user "bill"/],
      ['bo\u{10F48}b', 400, /U\+10F48, a combining mark of another script, on Latin/],
      ['bo\u{10F82}b', 400, /U\+10F82, a combining mark of another script, on Latin/],
    ];
    for (const [username, status, message] of cases) {
      const res = await call('POST', '/api/v1/users', { username });
      expect([username, res.status, res.type]).toEqual([username, status, expect.stringContaining('application/problem+json')]);
      expect([res.body.detail, ...(res.body.errors ?? []).map((e: { message: string }) => e.message)].join(' ')).toMatch(message);
    }
    const group = await call('POST', '/api/v1/groups', { name: 'Bi\uA7FE\uA7FEing' });
    expect(group.status).toBe(409);
    expect(await user('bi\uA7FE\uA7FE')).toBeUndefined();
  });
});
