import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INestApplication } from '@nestjs/common';
import { DirectoryRpc } from '@bridgekeeper/contracts';
import { createTestDatabase, RpcTestClient, startNats, TestDatabase, TestNats } from '@bridgekeeper/testing';
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
  let rpc: RpcTestClient;

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
  const syncApply = async (req: Record<string, unknown>) =>
    DirectoryRpc.syncApply.reply.parse(await rpc.send(DirectoryRpc.syncApply.subject, { source: 'kc', actor: 'sync:test', ...req }));

  beforeAll(async () => {
    nats = await startNats();
    pg = engine === 'postgres' ? await createTestDatabase() : undefined;
    dataDir = mkdtempSync(join(tmpdir(), 'bk-names-'));
    app = await createDirectoryApp(
      loadDirectoryConfig({ NATS_URL: nats.url, DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...(pg ? { DATABASE_URL: pg.url } : {}) }),
    );
    app.useLogger(false);
    await app.listen(0, '127.0.0.1');
    base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    admin = (await app.get(TokensService).create('test admin', 'admin', 'test')).token;
    rpc = await RpcTestClient.connect(nats.url);
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
        {
          kind: 'user',
          externalId: 'kc-3',
          name: '\u0441\u0430\u0455\u0455\u0456\u0435',
          reason: expect.stringMatching(/^username: .* looks like the existing user "cassie"/),
        },
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

  it('issue 25: refuses usernames that look like another as written (capital I for l, the palochka), blank characters and hidden dots; renames too', async () => {
    const before = await usernames();
    for (const [username, other] of [
      ['biII', 'bill'],
      ['BiII', 'bill'],
      ['\u0430\u04CF\u0456\u0441\u0435', 'alice'],
    ]) {
      const res = await call('POST', '/api/v1/users', { username });
      expect([username, res.status, res.body.detail]).toEqual([
        username,
        409,
        expect.stringMatching(new RegExp(`^username: .* looks like the existing user "${other}"`)),
      ]);
    }
    for (const [username, message] of [
      ['alice\u2800', /U\+2800, a blank character/],
      ['bi\u2800ll', /U\+2800, a blank character/],
      ['ali\u0307ce', /U\+0307 \(combining dot above\) on U\+0069/],
      ['al\u0131\u0307ce', /U\+0307 .* on U\+0131/],
    ] as const) {
      const res = await call('POST', '/api/v1/users', { username });
      expect([username, res.status, res.type]).toEqual([username, 400, expect.stringContaining('application/problem+json')]);
      expect(res.body.errors).toEqual([{ field: 'username', message: expect.stringMatching(message) }]);
    }
    expect(await usernames()).toEqual(before);

    const erin = await call('POST', '/api/v1/users', { username: 'erin' });
    for (const [username, status] of [
      ['biII', 409],
      ['\u0430\u04CF\u0456\u0441\u0435', 409],
      ['erin\u2800', 400],
      ['eri\u0307n', 400],
    ] as const) {
      expect([username, (await call('PATCH', `/api/v1/users/${erin.body.id}`, { username })).status]).toEqual([username, status]);
    }
    expect((await call('GET', `/api/v1/users/${erin.body.id}`)).body.username).toBe('erin');
    // "jiII" shows as "jill", which is JILL in lower case.
    expect((await call('POST', '/api/v1/users', { username: 'JILL' })).status).toBe(201);
    const jill = await call('POST', '/api/v1/users', { username: 'jiII' });
    expect([jill.status, jill.body.detail]).toEqual([409, expect.stringMatching(/looks like the existing user "JILL"/)]);
    // A change of case alone changes how a name looks: "ian" may not become "Ian" beside "lan".
    expect((await call('POST', '/api/v1/users', { username: 'lan' })).status).toBe(201);
    const ian = await call('POST', '/api/v1/users', { username: 'ian' });
    expect(ian.status).toBe(201);
    const recased = await call('PATCH', `/api/v1/users/${ian.body.id}`, { username: 'Ian' });
    expect([recased.status, recased.body.detail]).toEqual([409, expect.stringMatching(/looks like the existing user "lan"/)]);
    expect((await call('PATCH', `/api/v1/users/${ian.body.id}`, { username: 'IAN' })).status).toBe(409);
    // i and l stay apart where they look different.
    for (const username of ['mail', 'mall']) expect([username, (await call('POST', '/api/v1/users', { username })).status]).toEqual([username, 201]);
  });

  it('issue 25: refuses group names that look like another as written, blank characters and hidden dots; renames too', async () => {
    for (const name of ['Billing', 'all', 'payroll']) expect((await call('POST', '/api/v1/groups', { name })).status).toBe(201);
    const before = await groupNames();
    for (const [name, message] of [
      ['Jira\u2800Admins', /U\+2800, a blank character/],
      ['Jira Admins\u2800', /U\+2800/],
      ['Jira Admi\u0307ns', /U\+0307 \(combining dot above\) on U\+0069/],
    ] as const) {
      const res = await call('POST', '/api/v1/groups', { name });
      expect([name, res.status]).toEqual([name, 400]);
      expect(res.body.errors).toEqual([{ field: 'name', message: expect.stringMatching(message) }]);
    }
    for (const [name, other] of [
      ['BiIIing', 'Billing'],
      ['\u0430\u04CF\u04CF', 'all'],
    ]) {
      const res = await call('POST', '/api/v1/groups', { name });
      expect([name, res.status, res.body.detail]).toEqual([name, 409, expect.stringMatching(new RegExp(`^name: .* looks like the existing group "${other}"`))]);
    }
    const payroll = (await call('GET', '/api/v1/groups?q=payroll')).body.items[0];
    for (const [name, status] of [
      ['BiIIing', 409],
      ['\u0430\u04CF\u04CF', 409],
      ['payroll\u2800', 400],
      ['payrolli\u0307', 400],
    ] as const) {
      expect([name, (await call('PATCH', `/api/v1/groups/${payroll.id}`, { name })).status]).toEqual([name, status]);
    }
    expect(await groupNames()).toEqual(before);
  });

  it('issue 25: User Sync leaves out the same names and reports them; a change of case is checked too', async () => {
    const first = await syncApply({
      groupsToCreate: ['kc-bill', 'kc-biII', 'kc\u2800staff'],
      upsert: [
        { externalId: 'kc-11', username: 'biII', email: null, displayName: null, active: true, properties: {} },
        { externalId: 'kc-12', username: '\u0430\u04CF\u0456\u0441\u0435', email: null, displayName: null, active: true, properties: {} },
        { externalId: 'kc-13', username: 'ali\u0307ce', email: null, displayName: null, active: true, properties: {} },
        { externalId: 'kc-14', username: 'bill\u2800', email: null, displayName: null, active: true, properties: {} },
        { externalId: 'kc-15', username: 'kc.ian', email: null, displayName: null, active: true, properties: {} },
        { externalId: 'kc-16', username: 'kc.lan', email: null, displayName: null, active: true, properties: {} },
      ],
    });
    if (first.status !== 'applied') throw new Error(`not applied: ${JSON.stringify(first)}`);
    expect(first.refused).toEqual(
      expect.arrayContaining([
        { kind: 'group', name: 'kc-biII', reason: expect.stringMatching(/looks like the existing group "kc-bill"/) },
        { kind: 'group', name: 'kc\u2800staff', reason: expect.stringMatching(/U\+2800/) },
        { kind: 'user', externalId: 'kc-11', name: 'biII', reason: expect.stringMatching(/looks like the existing user "bill"/) },
        { kind: 'user', externalId: 'kc-12', name: '\u0430\u04CF\u0456\u0441\u0435', reason: expect.stringMatching(/looks like the existing user "alice"/) },
        { kind: 'user', externalId: 'kc-13', name: 'ali\u0307ce', reason: expect.stringMatching(/^username: contains U\+0307/) },
        { kind: 'user', externalId: 'kc-14', name: 'bill\u2800', reason: expect.stringMatching(/^username: contains U\+2800/) },
      ]),
    );
    expect(first.refused).toHaveLength(6);
    expect(await usernames()).toEqual(expect.arrayContaining(['kc.ian', 'kc.lan']));
    expect(await groupNames()).toContain('kc-bill');
    const recased = await syncApply({ upsert: [{ externalId: 'kc-15', username: 'kc.Ian', email: null, displayName: null, active: true, properties: {} }] });
    if (recased.status !== 'applied') throw new Error(`not applied: ${JSON.stringify(recased)}`);
    expect(recased.refused).toEqual([
      { kind: 'user', externalId: 'kc-15', name: 'kc.Ian', reason: expect.stringMatching(/looks like the existing user "kc.lan"/) },
    ]);
    expect(await usernames()).toContain('kc.ian');
  });

  it('memberships bulk: the same pair in add and remove is a 400 naming both entries, nothing changed', async () => {
    const user = (await call('GET', '/api/v1/users?q=bill')).body.items[0];
    const [staff, admins] = ['staff', 'admins'].map(async (n) =>
      (await call('GET', `/api/v1/groups?q=${n}`)).body.items.find((g: { name: string }) => g.name === n),
    );
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
