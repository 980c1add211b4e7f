import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INestApplication } from '@nestjs/common';
import { connect, JSONCodec, NatsConnection } from 'nats';
import { createTestDatabase, startNats, TestDatabase, TestNats, waitFor } from '@bridgekeeper/testing';
import { loadDirectoryConfig } from '../src/config/directory.config';
import { createDirectoryApp } from '../src/directory.app';
import { TokensService } from '../src/tokens/tokens.service';

interface Harness {
  base: string;
  admin: string;
  readOnly: string;
  call: (method: string, path: string, opts?: { token?: string | null; body?: unknown; raw?: string }) => Promise<{ status: number; body: any; type: string }>;
  stop: () => Promise<void>;
  nc: NatsConnection;
}

/** A directory on real NATS and a real database, listening on a free port, with an admin and a read-only token. */
async function startDirectory(engine: 'postgres' | 'sqlite', env: Record<string, string> = {}): Promise<Harness> {
  const nats: TestNats = await startNats();
  const pg: TestDatabase | undefined = engine === 'postgres' ? await createTestDatabase() : undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'bk-admin-'));
  const config = loadDirectoryConfig({ NATS_URL: nats.url, DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...(pg ? { DATABASE_URL: pg.url } : {}), ...env });
  const app: INestApplication = await createDirectoryApp(config);
  app.useLogger(false);
  await app.listen(0, '127.0.0.1');
  const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  const tokens = app.get(TokensService);
  const admin = (await tokens.create('test admin', 'admin', 'test')).token;
  const readOnly = (await tokens.create('test reader', 'read-only', 'test')).token;
  const nc = await connect({ servers: nats.url });
  const call: Harness['call'] = async (method, path, opts = {}) => {
    const token = opts.token === undefined ? admin : opts.token;
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(opts.body !== undefined || opts.raw ? { 'content-type': 'application/json' } : {}),
      },
      body: opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body)),
    });
    const text = await res.text();
    return { status: res.status, body: text ? safeJson(text) : undefined, type: res.headers.get('content-type') ?? '' };
  };
  return {
    base,
    admin,
    readOnly,
    call,
    nc,
    async stop() {
      await nc.close();
      await app.close();
      await pg?.drop();
      await nats.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function safeJson(text: string) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

describe.each(['postgres', 'sqlite'] as const)('directory admin API on %s', (engine) => {
  let h: Harness;
  const events: { subject: string; data: any }[] = [];

  beforeAll(async () => {
    h = await startDirectory(engine);
    h.nc.subscribe('directory.>', { callback: (_e, m) => events.push({ subject: m.subject, data: JSONCodec().decode(m.data) }) });
  });
  afterAll(() => h?.stop());

  it('answers 401 on every admin route without a valid token, and 403 on every change with a read-only one', async () => {
    const doc = (await (await fetch(`${h.base}/api/docs-json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const routes = Object.entries(doc.paths)
      .filter(([path]) => path.startsWith('/api/v1/'))
      .flatMap(([path, ops]) =>
        Object.keys(ops).map((method) => ({ method: method.toUpperCase(), path: path.replace(/\{[^}]+\}/g, '00000000-0000-4000-8000-000000000000') })),
      );
    expect(routes.length).toBeGreaterThanOrEqual(20);
    for (const r of routes) {
      expect([r, (await h.call(r.method, r.path, { token: null })).status]).toEqual([r, 401]);
      expect([r, (await h.call(r.method, r.path, { token: 'bk_0000000000000000_' + 'x'.repeat(43) })).status]).toEqual([r, 401]);
      const ro = await h.call(r.method, r.path, { token: h.readOnly, body: r.method === 'GET' ? undefined : {} });
      if (r.method !== 'GET' || r.path === '/api/v1/tokens') expect([r, ro.status]).toEqual([r, 403]);
      else expect([r, ro.status]).not.toEqual([r, 403]);
    }
    expect((await fetch(`${h.base}/health/live`)).status).toBe(200);
    expect((await fetch(`${h.base}/metrics`)).status).toBe(200);
  });

  it('keeps a multi-valued property as a list (one value a string), shown alike in the API, the audit and the event; an empty list is a 400 that changes nothing', async () => {
    const id = (await h.call('POST', '/api/v1/users', { body: { username: 'multi.mo' } })).body.id;
    expect((await h.call('PUT', `/api/v1/users/${id}/properties/roles`, { body: { value: ['dev', 'ops', 'dev', ''] } })).body).toEqual({
      roles: ['dev', 'ops'],
    });
    expect((await h.call('GET', `/api/v1/users/${id}`)).body.properties).toEqual({ roles: ['dev', 'ops'] });
    expect((await h.call('PUT', `/api/v1/users/${id}/properties/roles`, { body: { value: ['ops'] } })).body).toEqual({ roles: 'ops' });
    const empty = await h.call('PUT', `/api/v1/users/${id}/properties/roles`, { body: { value: [] } });
    expect(empty).toMatchObject({ status: 400, type: expect.stringContaining('application/problem+json') });
    expect((await h.call('GET', `/api/v1/users/${id}/properties`)).body).toEqual({ roles: 'ops' });
    expect(
      (await h.call('POST', '/api/v1/users/bulk', { body: { users: [{ username: 'multi.mo', properties: { roles: ['a', 'b'], team: 'x' } }] } })).status,
    ).toBe(200);
    expect((await h.call('GET', `/api/v1/users/${id}/properties`)).body).toEqual({ roles: ['a', 'b'], team: 'x' });

    const audit = (await h.call('GET', `/api/v1/audit?targetType=property&targetId=${id}:roles`)).body.items as { before: unknown; after: unknown }[];
    expect(audit.map((a) => [a.before, a.after]).reverse()).toEqual([
      [null, { roles: ['dev', 'ops'] }],
      [{ roles: ['dev', 'ops'] }, { roles: 'ops' }],
      [{ roles: 'ops' }, { roles: ['a', 'b'] }],
    ]);
    await waitFor('property events', async () => events.filter((e) => e.data.data.targetId === `${id}:roles`).length >= 3);
    expect(events.filter((e) => e.data.data.targetId === `${id}:roles`).map((e) => e.data.data.after)).toEqual([
      { roles: ['dev', 'ops'] },
      { roles: 'ops' },
      { roles: ['a', 'b'] },
    ]);
  });

  it('creates, reads, updates, disables, enables and deletes a user, each with its audit row and event', async () => {
    const created = await h.call('POST', '/api/v1/users', { body: { username: 'Manual.Mary', email: 'Mary@Example.com', displayName: 'Mary' } });
    expect(created).toMatchObject({ status: 201, body: { username: 'Manual.Mary', source: 'local', active: true } });
    const id = created.body.id;
    expect((await h.call('GET', `/api/v1/users/${id}`, { token: h.readOnly })).body).toMatchObject({ id, groups: [], properties: {} });
    expect((await h.call('PATCH', `/api/v1/users/${id}`, { body: { displayName: 'Mary M.' } })).body).toMatchObject({ displayName: 'Mary M.' });
    expect((await h.call('POST', `/api/v1/users/${id}/disable`)).body).toMatchObject({ active: false });
    expect((await h.call('POST', `/api/v1/users/${id}/enable`)).body).toMatchObject({ active: true });
    expect((await h.call('PUT', `/api/v1/users/${id}/properties/department`, { body: { value: 'R&D' } })).body).toEqual({ department: 'R&D' });
    expect((await h.call('DELETE', `/api/v1/users/${id}/properties/department`)).body).toEqual({});
    expect((await h.call('DELETE', `/api/v1/users/${id}`)).status).toBe(204);
    expect((await h.call('GET', `/api/v1/users/${id}`)).status).toBe(404);

    const audit = await h.call('GET', `/api/v1/audit?targetType=user&targetId=${id}&limit=50`, { token: h.readOnly });
    expect(audit.body.items.map((a: { action: string }) => a.action).sort()).toEqual([
      'user.created',
      'user.deleted',
      'user.disabled',
      'user.enabled',
      'user.updated',
    ]);
    expect(audit.body.items.every((a: { actor: string }) => a.actor.startsWith('admin-token:'))).toBe(true);
    const props = await h.call('GET', `/api/v1/audit?targetType=property&targetId=${id}:department`);
    expect(props.body.items.map((a: { action: string }) => a.action).sort()).toEqual(['property.changed', 'property.removed']);
    await waitFor('directory events', async () => events.filter((e) => e.data.data.targetId === id).length >= 5);
    expect(events.filter((e) => e.data.data.targetId === id).map((e) => e.subject)).toEqual(
      expect.arrayContaining([
        'directory.user.created',
        'directory.user.updated',
        'directory.user.disabled',
        'directory.user.enabled',
        'directory.user.deleted',
      ]),
    );
    // The user's id, its audit rows' and its events' are time-ordered (UUIDv7): large runs append to their indexes.
    const v7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    expect(id).toMatch(v7);
    expect(audit.body.items.map((a: { id: string }) => a.id)).toEqual(audit.body.items.map(() => expect.stringMatching(v7)));
    expect(events.filter((e) => e.data.data.targetId === id).map((e) => e.data.id)).toEqual(Array(5).fill(expect.stringMatching(v7)));
  });

  it('refuses bad input with problem+json naming the field, and writes nothing', async () => {
    const before = (await h.call('GET', '/api/v1/audit?limit=500')).body.items.length;
    const unknown = await h.call('POST', '/api/v1/users', { body: { username: 'x', isAdmin: true } });
    expect(unknown).toMatchObject({ status: 400, body: { status: 400, title: 'Validation failed' } });
    expect(unknown.type).toContain('application/problem+json');
    expect(unknown.body.detail).toContain('isAdmin');
    const badEmail = await h.call('POST', '/api/v1/users', { body: { username: 'y', email: 'not-an-email' } });
    expect(badEmail.body.errors).toEqual([expect.objectContaining({ field: 'email' })]);
    expect((await h.call('POST', '/api/v1/users', { raw: '{"username":' })).status).toBe(400);
    expect((await h.call('POST', '/api/v1/users', { raw: JSON.stringify({ username: 'z', displayName: 'x'.repeat(300_000) }) })).status).toBe(413);
    expect((await h.call('GET', '/api/v1/users?sort=password')).body.errors[0].field).toBe('sort');
    expect((await h.call('GET', '/api/v1/audit?limit=500')).body.items.length).toBe(before);
  });

  it('keeps usernames and emails unique case-insensitively: two concurrent creates give one user and one clean 409', async () => {
    const results = await Promise.all([0, 1, 2].map(() => h.call('POST', '/api/v1/users', { body: { username: 'race', email: 'race@example.com' } })));
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    expect(results.find((r) => r.status === 409)?.body).toMatchObject({ status: 409, detail: expect.stringMatching(/taken|belongs|already/) });
    expect((await h.call('POST', '/api/v1/users', { body: { username: 'RACE' } })).status).toBe(409);
    expect((await h.call('POST', '/api/v1/users', { body: { username: 'other', email: 'RACE@example.com' } })).status).toBe(409);
    expect((await h.call('GET', '/api/v1/users?q=race')).body.items).toHaveLength(1);
  });

  it('pages stably through users while others are added, with filters and sorting', async () => {
    const names = Array.from({ length: 25 }, (_, i) => `page-${String(i).padStart(2, '0')}`);
    for (const username of names) expect((await h.call('POST', '/api/v1/users', { body: { username, source: 'paging' } })).status).toBe(201);
    const seen: string[] = [];
    let cursor: string | null = null;
    let inserted = 0;
    do {
      const page: { status: number; body: any } = await h.call('GET', `/api/v1/users?source=paging&limit=10${cursor ? `&cursor=${cursor}` : ''}`, {
        token: h.readOnly,
      });
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((u: { username: string }) => u.username));
      cursor = page.body.nextCursor;
      // Rows inserted before and after the cursor while paging: none repeated, none of the first skipped.
      await h.call('POST', '/api/v1/users', { body: { username: `page-${inserted % 2 ? 'zz' : 'aa'}-${inserted}`, source: 'paging' } });
      inserted++;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.filter((n) => names.includes(n))).toEqual(names);

    const desc = await h.call('GET', '/api/v1/users?source=paging&sort=-username&limit=3');
    expect(desc.body.items.map((u: { username: string }) => u.username)).toEqual(
      [...desc.body.items.map((u: { username: string }) => u.username)].sort().reverse(),
    );
    await h.call('POST', `/api/v1/users/${desc.body.items[0].id}/disable`);
    expect((await h.call('GET', '/api/v1/users?source=paging&status=disabled')).body.items).toHaveLength(1);
    expect((await h.call('GET', '/api/v1/users?q=PAGE-0')).body.items.length).toBe(10);
    expect((await h.call('GET', '/api/v1/users?q=%25')).body.items).toHaveLength(0);
  });

  it('manages groups and memberships, one by one and in bulk (all or nothing)', async () => {
    const g = (await h.call('POST', '/api/v1/groups', { body: { name: 'jira-users', description: 'may use Jira' } })).body;
    expect((await h.call('POST', '/api/v1/groups', { body: { name: 'JIRA-USERS' } })).status).toBe(409);
    const users = (await h.call('GET', '/api/v1/users?source=paging&limit=5')).body.items as { id: string }[];
    expect((await h.call('PUT', `/api/v1/users/${users[0].id}/groups`, { body: { groupIds: [g.id] } })).body).toEqual([
      expect.objectContaining({ name: 'jira-users' }),
    ]);
    const bulk = await h.call('POST', '/api/v1/memberships/bulk', { body: { add: users.map((u) => ({ userId: u.id, groupId: g.id })), remove: [] } });
    expect(bulk.body).toEqual({ added: 4, removed: 0, unchanged: 1 });
    expect((await h.call('GET', `/api/v1/groups/${g.id}`)).body).toMatchObject({ name: 'jira-users', members: 5 });
    expect((await h.call('GET', `/api/v1/users?group=jira-users&limit=50`)).body.items).toHaveLength(5);
    expect((await h.call('GET', `/api/v1/groups/${g.id}/members?limit=2`)).body).toMatchObject({ items: [{}, {}], nextCursor: expect.any(String) });

    const missing = '00000000-0000-4000-8000-000000000000';
    const refused = await h.call('POST', '/api/v1/memberships/bulk', {
      body: {
        add: [],
        remove: [
          { userId: users[0].id, groupId: g.id },
          { userId: users[1].id, groupId: missing },
        ],
      },
    });
    expect(refused).toMatchObject({ status: 400, body: { detail: expect.stringContaining(`remove.1.groupId: no group ${missing}`) } });
    expect((await h.call('GET', `/api/v1/groups/${g.id}`)).body.members).toBe(5);
    expect((await h.call('POST', '/api/v1/memberships/bulk', { body: { remove: [{ userId: users[0].id, groupId: g.id }] } })).body).toEqual({
      added: 0,
      removed: 1,
      unchanged: 0,
    });
    expect((await h.call('PATCH', `/api/v1/groups/${g.id}`, { body: { name: 'jira-software-users' } })).body.name).toBe('jira-software-users');
    expect((await h.call('DELETE', `/api/v1/groups/${g.id}`)).status).toBe(204);
    const audit = (await h.call('GET', `/api/v1/audit?targetType=group&targetId=${g.id}`)).body.items.map((a: { action: string }) => a.action).sort();
    expect(audit).toEqual(['group.created', 'group.deleted', 'group.updated']);
  });

  it('upserts users in bulk without per-row writes for unchanged rows', async () => {
    const users = Array.from({ length: 300 }, (_, i) => ({
      username: `sync-${i}`,
      email: `sync-${i}@example.com`,
      source: 'kc-sync',
      externalId: `kc-${i}`,
      properties: { dept: `d${i % 3}` },
    }));
    expect((await h.call('POST', '/api/v1/users/bulk', { body: { users } })).body).toMatchObject({ created: 300, updated: 0, unchanged: 0 });
    const auditCount = async () =>
      (await h.call('GET', '/api/v1/audit?actor=' + encodeURIComponent('admin-token:' + h.admin.split('_')[1]) + '&limit=500')).body.items.length;
    const before = await auditCount();
    expect((await h.call('POST', '/api/v1/users/bulk', { body: { users } })).body).toMatchObject({ created: 0, updated: 0, unchanged: 300 });
    expect(await auditCount()).toBe(before);
    users[7] = { ...users[7], username: 'sync-renamed-7' };
    expect((await h.call('POST', '/api/v1/users/bulk', { body: { users } })).body).toMatchObject({ created: 0, updated: 1, unchanged: 299 });
    const bad = [...users, { username: 'sync-new', email: 'broken' }];
    expect((await h.call('POST', '/api/v1/users/bulk', { body: { users: bad } })).body.errors[0].field).toBe('users.300.email');
    expect((await h.call('GET', '/api/v1/users?q=sync-new')).body.items).toHaveLength(0);
    // An address another user has, or one the request gives twice (in any case), names the item.
    const taken = await h.call('POST', '/api/v1/users/bulk', { body: { users: [users[0], { username: 'sync-new', email: 'SYNC-3@example.com' }] } });
    expect(taken).toMatchObject({ status: 409, body: { detail: expect.stringContaining('users.1.email: already used by another user') } });
    const twice = await h.call('POST', '/api/v1/users/bulk', {
      body: { users: [...users, { username: 'sync-new', email: 'twice@example.com' }, { username: 'sync-new-2', email: 'Twice@example.com' }] },
    });
    expect(twice).toMatchObject({ status: 400, body: { detail: expect.stringContaining('users.301.email: the same address as users.300.email') } });
    expect((await h.call('GET', '/api/v1/users?q=sync-new')).body.items).toHaveLength(0);
    expect((await h.call('GET', `/api/v1/users/${(await h.call('GET', '/api/v1/users?q=sync-renamed-7')).body.items[0].id}/properties`)).body).toEqual({
      dept: 'd1',
    });
  });

  it('a bulk upsert changes only the fields an item names: it never blanks a profile nor enables a disabled user; disabling and enabling are their own changes', async () => {
    const created = await h.call('POST', '/api/v1/users', { body: { username: 'partial.pat', email: 'pat@example.com', displayName: 'Pat P.' } });
    const id = created.body.id;
    expect((await h.call('POST', `/api/v1/users/${id}/disable`)).body).toMatchObject({ active: false });
    await waitFor('the disable event', async () => events.some((e) => e.subject === 'directory.user.disabled' && e.data.data?.targetId === id), 5000, 50);
    const marker = events.length;
    expect((await h.call('POST', '/api/v1/users/bulk', { body: { users: [{ username: 'partial.pat', properties: { team: 'blue' } }] } })).body).toMatchObject({
      created: 0,
      updated: 0,
      unchanged: 1,
    });
    expect((await h.call('GET', `/api/v1/users/${id}`)).body).toMatchObject({
      email: 'pat@example.com',
      displayName: 'Pat P.',
      active: false,
      source: 'local',
      properties: { team: 'blue' },
    });
    expect((await h.call('POST', '/api/v1/users/bulk', { body: { users: [{ username: 'partial.pat', displayName: 'Pat Q.' }] } })).body).toMatchObject({
      updated: 1,
    });
    expect((await h.call('GET', `/api/v1/users/${id}`)).body).toMatchObject({ email: 'pat@example.com', displayName: 'Pat Q.', active: false });
    expect((await h.call('POST', '/api/v1/users/bulk', { body: { users: [{ username: 'partial.pat', active: true }] } })).body).toMatchObject({ updated: 1 });
    expect((await h.call('POST', '/api/v1/users/bulk', { body: { users: [{ username: 'partial.pat', active: false, email: null }] } })).body).toMatchObject({
      updated: 1,
    });
    expect((await h.call('GET', `/api/v1/users/${id}`)).body).toMatchObject({ email: null, displayName: 'Pat Q.', active: false });
    const audit = await h.call('GET', `/api/v1/audit?targetType=user&targetId=${id}&limit=50`);
    expect(audit.body.items.map((a: { action: string }) => a.action).reverse()).toEqual([
      'user.created',
      'user.disabled',
      'user.updated',
      'user.enabled',
      'user.updated',
      'user.disabled',
    ]);
    // The offboarding events go out like those of /disable: auth ends the user's sessions on them.
    await waitFor('the bulk events', async () => events.slice(marker).filter((e) => e.data.data?.targetId === id).length >= 4, 5000, 50);
    expect(
      events
        .slice(marker)
        .filter((e) => e.data.data?.targetId === id)
        .map((e) => e.subject),
    ).toEqual(['directory.user.updated', 'directory.user.enabled', 'directory.user.updated', 'directory.user.disabled']);
    // A new user named by an item gets the defaults for what it leaves out.
    expect((await h.call('POST', '/api/v1/users/bulk', { body: { users: [{ username: 'partial.new' }] } })).body).toMatchObject({ created: 1 });
    expect((await h.call('GET', '/api/v1/users?q=partial.new')).body.items[0]).toMatchObject({ active: true, source: 'local', email: null });
  });

  it('creates and revokes tokens through the API; a revoked token stops working', async () => {
    const t = await h.call('POST', '/api/v1/tokens', { body: { name: 'ci', role: 'read-only' } });
    expect(t).toMatchObject({ status: 201, body: { role: 'read-only', token: expect.stringMatching(/^bk_/) } });
    expect((await h.call('GET', '/api/v1/seats', { token: t.body.token })).status).toBe(200);
    const list = await h.call('GET', '/api/v1/tokens');
    expect(JSON.stringify(list.body)).not.toContain(t.body.token.slice('bk_'.length + 17)); // the secret
    expect((await h.call('DELETE', `/api/v1/tokens/${t.body.id}`)).body.revokedAt).toBeTruthy();
    expect((await h.call('GET', '/api/v1/seats', { token: t.body.token })).status).toBe(401);
  });
});

describe('licence seats and rate limiting', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startDirectory('sqlite', { DIRECTORY_SEAT_LIMIT: '2', ADMIN_RATE_LIMIT_PER_MINUTE: '40' });
  });
  afterAll(() => h?.stop());

  it('counts active users against the limit and refuses the one too many with a clear error', async () => {
    expect((await h.call('GET', '/api/v1/seats')).body).toEqual({ used: 0, limit: 2, available: 2, policy: 'refuse', over: false });
    const a = (await h.call('POST', '/api/v1/users', { body: { username: 'a' } })).body;
    await h.call('POST', '/api/v1/users', { body: { username: 'b' } });
    const refused = await h.call('POST', '/api/v1/users', { body: { username: 'c' } });
    expect(refused).toMatchObject({ status: 409, body: { detail: expect.stringContaining('seat limit is reached: 2 of 2') } });
    expect((await h.call('POST', '/api/v1/users', { body: { username: 'c', active: false } })).status).toBe(201);
    await h.call('POST', `/api/v1/users/${a.id}/disable`);
    expect((await h.call('GET', '/api/v1/seats')).body).toMatchObject({ used: 1, available: 1 });
    const c = (await h.call('GET', '/api/v1/users?q=c')).body.items[0];
    expect((await h.call('POST', `/api/v1/users/${c.id}/enable`)).body.active).toBe(true);
    expect((await h.call('POST', `/api/v1/users/${a.id}/enable`)).status).toBe(409);
  });

  it('counts a user a bulk upsert enables once: the last free seat can be taken by enabling', async () => {
    // Two seats: b and c active. b disabled frees one; a bulk upsert that enables b takes it back.
    const b = (await h.call('GET', '/api/v1/users?q=b')).body.items.find((u: { username: string }) => u.username === 'b');
    await h.call('POST', `/api/v1/users/${b.id}/disable`);
    const enabled = await h.call('POST', '/api/v1/users/bulk', { body: { users: [{ username: 'b', active: true }] } });
    expect(enabled).toMatchObject({ status: 200, body: { updated: 1 } });
    expect((await h.call('GET', '/api/v1/seats')).body).toMatchObject({ used: 2, available: 0 });
    // And the one too many is still refused, with nothing written.
    const a = (await h.call('GET', '/api/v1/users?q=a')).body.items.find((u: { username: string }) => u.username === 'a');
    expect((await h.call('POST', '/api/v1/users/bulk', { body: { users: [{ username: 'a', active: true }] } })).status).toBe(409);
    expect((await h.call('GET', `/api/v1/users/${a.id}`)).body.active).toBe(false);
  });

  it('limits the admin API rate per client, and leaves health alone', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 45; i++) statuses.push((await h.call('GET', '/api/v1/seats')).status);
    expect(statuses).toContain(429);
    expect((await fetch(`${h.base}/health/live`)).status).toBe(200);
  });
});
