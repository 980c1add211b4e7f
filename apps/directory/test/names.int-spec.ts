import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INestApplication } from '@nestjs/common';
import { ClientProxy, ClientProxyFactory, Transport } from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';
import { DirectoryRpc } from '@bridgekeeper/contracts';
import { createTestDatabase, startNats, TestDatabase, TestNats } from '@bridgekeeper/testing';
import { loadDirectoryConfig } from '../src/config/directory.config';
import { createDirectoryApp } from '../src/directory.app';
import { TokensService } from '../src/tokens/tokens.service';

/**
 * Names that cannot impersonate, through the directory's HTTP API and its User Sync command, on
 * both engines: usernames, group names and synced emails are NFC, hold no control, format or
 * invisible characters, and are refused when they look like (TR 39 skeleton) another's.
 */
describe.each(['postgres', 'sqlite'] as const)('names that cannot impersonate, on %s', (engine) => {
  let nats: TestNats;
  let pg: TestDatabase | undefined;
  let dataDir: string;
  let app: INestApplication;
  let base: string;
  let admin: string;
  let rpc: ClientProxy;

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${admin}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, type: res.headers.get('content-type') ?? '' };
  };
  const usernames = async () => (await call('GET', '/api/v1/users?limit=500')).body.items.map((u: { username: string }) => u.username).sort();
  const groupNames = async () => (await call('GET', '/api/v1/groups?limit=500')).body.items.map((g: { name: string }) => g.name).sort();
  const syncApply = async (req: Record<string, unknown>) => DirectoryRpc.syncApply.reply.parse(await firstValueFrom(rpc.send(DirectoryRpc.syncApply.subject, { source: 'kc', actor: 'sync:test', ...req })));

  beforeAll(async () => {
    nats = await startNats();
    pg = engine === 'postgres' ? await createTestDatabase() : undefined;
    dataDir = mkdtempSync(join(tmpdir(), 'bk-names-'));
    app = await createDirectoryApp(loadDirectoryConfig({ NATS_URL: nats.url, DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...(pg ? { DATABASE_URL: pg.url } : {}) }));
    app.useLogger(false);
    await app.listen(0, '127.0.0.1');
    base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    admin = (await app.get(TokensService).create('test admin', 'admin', 'test')).token;
    rpc = ClientProxyFactory.create({ transport: Transport.NATS, options: { servers: [nats.url] } });
    await rpc.connect();
    for (const username of ['alice', 'bill', 'cassie', 'caf\u00e9']) expect((await call('POST', '/api/v1/users', { username })).status).toBe(201);
    for (const name of ['staff', 'admins', 'Jira Admins']) expect((await call('POST', '/api/v1/groups', { name })).status).toBe(201);
  });

  afterAll(async () => {
    await rpc?.close();
    await app?.close();
    await pg?.drop();
    await nats?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses usernames with hidden or disguised characters: a 400 naming the field and the code point, nothing written', async () => {
    const cases: [string, RegExp][] = [
      ['alice\u202Etxt', /U\+202E, a bidirectional control/],
      ['al\u200Bice', /U\+200B, an invisible zero-width character/],
      ['alice\uFE0F', /U\+FE0F, a variation selector/],
      ['ａｌｉｃｅ', /U\+FF41, a compatibility form/],
      ['\u0430lice', /mixes Latin and Cyrillic letters/],
    ];
    const before = await usernames();
    for (const [username, message] of cases) {
      const res = await call('POST', '/api/v1/users', { username });
      expect([username, res.status, res.type]).toEqual([username, 400, expect.stringContaining('application/problem+json')]);
      expect(res.body.errors).toEqual([{ field: 'username', message: expect.stringMatching(message) }]);
    }
    expect(await usernames()).toEqual(before);
  });

  it('stores names in NFC: the decomposed spelling of a taken name is taken', async () => {
    const res = await call('POST', '/api/v1/users', { username: 'cafe\u0301' });
    expect(res.status).toBe(409);
    const created = await call('POST', '/api/v1/users', { username: 'jose\u0301' });
    expect(created.status).toBe(201);
    expect(created.body.username).toBe('jos\u00e9');
  });

  it('refuses a username that looks like another user’s (TR 39 skeleton) with a 409 naming both; renames too', async () => {
    for (const username of ['\u0441\u0430\u0455\u0455\u0456\u0435', 'BI11']) {
      const res = await call('POST', '/api/v1/users', { username });
      expect([username, res.status]).toEqual([username, 409]);
    }
    const spoof = await call('POST', '/api/v1/users', { username: '\u0441\u0430\u0455\u0455\u0456\u0435' });
    expect(spoof.body.detail).toMatch(/^username: .* looks like the existing user "cassie"/);
    const dave = await call('POST', '/api/v1/users', { username: 'dave' });
    expect((await call('PATCH', `/api/v1/users/${dave.body.id}`, { username: 'bi1l' })).status).toBe(409);
    const bidi = await call('PATCH', `/api/v1/users/${dave.body.id}`, { username: 'dave\u202E' });
    expect(bidi.status).toBe(400);
    expect(bidi.body.errors[0].field).toBe('username');
    expect((await call('GET', `/api/v1/users/${dave.body.id}`)).body.username).toBe('dave');
  });

  it('bulk: names each refused item, changes nothing', async () => {
    const before = await usernames();
    const hidden = await call('POST', '/api/v1/users/bulk', { users: [{ username: 'bulk.one' }, { username: 'bulk\u200Dtwo' }] });
    expect(hidden.status).toBe(400);
    expect(hidden.body.errors).toEqual([{ field: 'users.1.username', message: expect.stringMatching(/U\+200D/) }]);
    const lookalike = await call('POST', '/api/v1/users/bulk', { users: [{ username: 'bulk.one' }, { username: '\u0441\u0430\u0455\u0455\u0456\u0435' }] });
    expect(lookalike.status).toBe(409);
    expect(lookalike.body.detail).toMatch(/^users\.1\.username: .* looks like the existing user "cassie"/);
    const twins = await call('POST', '/api/v1/users/bulk', { users: [{ username: 'bulk.one' }, { username: 'bulk.0ne' }] });
    expect(twins.status).toBe(409);
    expect(twins.body.detail).toMatch(/^users\.1\.username: .* looks like users\.0\.username/);
    expect(await usernames()).toEqual(before);
  });

  it('refuses group names with hidden characters (400) and names that look like another group’s (409), renames too', async () => {
    const before = await groupNames();
    for (const [name, message] of [
      ['st\u200Baff', /U\+200B/],
      ['Jira\u00A0Admins', /U\+00A0, a space other than the plain space/],
      ['Jira  Admins', /two spaces in a row/],
      ['\u0455taff', /mixes Latin and Cyrillic/],
      ['ｓｔａｆｆ', /compatibility form/],
    ] as const) {
      const res = await call('POST', '/api/v1/groups', { name });
      expect([name, res.status]).toEqual([name, 400]);
      expect(res.body.errors).toEqual([{ field: 'name', message: expect.stringMatching(message) }]);
    }
    const lookalike = await call('POST', '/api/v1/groups', { name: 'adrnins' });
    expect(lookalike.status).toBe(409);
    expect(lookalike.body.detail).toMatch(/^name: .* looks like the existing group "admins"/);
    const other = await call('POST', '/api/v1/groups', { name: 'auditors' });
    expect((await call('PATCH', `/api/v1/groups/${other.body.id}`, { name: 'ADRNINS' })).status).toBe(409);
    expect((await call('PATCH', `/api/v1/groups/${other.body.id}`, { name: 'st\u200Baff' })).status).toBe(400);
    expect(await groupNames()).toEqual([...before, 'auditors'].sort());
  });

  it('User Sync: a batch applies its good users and groups and reports the refused ones, instead of failing the run', async () => {
    const reply = await syncApply({
      groupsToCreate: ['kc-team', 'kc\u200Bteam2', '\u0455taff'],
      upsert: [
        { externalId: 'kc-1', username: 'synced.one', email: 'one@example.com', displayName: null, active: true, properties: {} },
        { externalId: 'kc-2', username: 'evil\u202Etxt', email: null, displayName: null, active: true, properties: {} },
        { externalId: 'kc-3', username: '\u0441\u0430\u0455\u0455\u0456\u0435', email: null, displayName: null, active: true, properties: {} },
        { externalId: 'kc-4', username: 'synced.four', email: 'f\u200Bour@example.com', displayName: null, active: true, properties: {} },
        { externalId: 'kc-5', username: 'syncecl.five', email: null, displayName: null, active: true, properties: {} },
        { externalId: 'kc-6', username: 'synced.five', email: null, displayName: null, active: true, properties: {} },
      ],
      addMemberships: [
        { externalId: 'kc-1', group: 'kc-team' },
        { externalId: 'kc-2', group: 'kc-team' },
        { externalId: 'kc-1', group: 'kc\u200Bteam2' },
      ],
    });
    expect(reply).toMatchObject({ status: 'applied' });
    if (reply.status !== 'applied') throw new Error('not applied');
    expect(reply.refused).toEqual(
      expect.arrayContaining([
        { kind: 'group', name: 'kc\u200Bteam2', reason: expect.stringMatching(/U\+200B/) },
        { kind: 'group', name: '\u0455taff', reason: expect.stringMatching(/Latin and Cyrillic/) },
        { kind: 'user', externalId: 'kc-2', name: 'evil\u202Etxt', reason: expect.stringMatching(/^username: contains U\+202E/) },
        { kind: 'user', externalId: 'kc-3', name: '\u0441\u0430\u0455\u0455\u0456\u0435', reason: expect.stringMatching(/^username: .* looks like the existing user "cassie"/) },
        { kind: 'user', externalId: 'kc-4', name: 'synced.four', reason: expect.stringMatching(/^email: contains U\+200B/) },
      ]),
    );
    expect(reply.refused).toHaveLength(5);
    const names = await usernames();
    expect(names).toEqual(expect.arrayContaining(['synced.one', 'syncecl.five', 'synced.five']));
    for (const refused of ['evil\u202Etxt', '\u0441\u0430\u0455\u0455\u0456\u0435', 'synced.four']) expect(names).not.toContain(refused);
    const groups = await groupNames();
    expect(groups).toContain('kc-team');
    for (const refused of ['kc\u200Bteam2', '\u0455taff']) expect(groups).not.toContain(refused);
    const one = (await call('GET', '/api/v1/users?q=synced.one')).body.items[0];
    expect((await call('GET', `/api/v1/users/${one.id}/groups`)).body.map((g: { name: string }) => g.name)).toEqual(['kc-team']);
  });

  it('memberships bulk: the same pair in add and remove is a 400 naming both entries, nothing changed', async () => {
    const user = (await call('GET', '/api/v1/users?q=bill')).body.items[0];
    const [staff, admins] = ['staff', 'admins'].map(async (n) => (await call('GET', `/api/v1/groups?q=${n}`)).body.items.find((g: { name: string }) => g.name === n));
    const pair = { userId: user.id, groupId: (await staff).id };
    const other = { userId: user.id, groupId: (await admins).id };
    const res = await call('POST', '/api/v1/memberships/bulk', { add: [other, pair], remove: [pair] });
    expect(res.status).toBe(400);
    expect(res.type).toContain('application/problem+json');
    expect(res.body.errors).toEqual([
      { field: 'add.1', message: expect.stringMatching(/remove\.0/) },
      { field: 'remove.0', message: expect.stringMatching(/add\.1/) },
    ]);
    expect((await call('GET', `/api/v1/users/${user.id}/groups`)).body).toEqual([]);
  });
});
