import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestDatabase, freePort, startNats, TestDatabase, TestNats, waitFor } from '@bridgekeeper/testing';
import { createAdminToken, ServiceName, Stack } from './support/stack';

/**
 * Pagination cursors (issue 25), through the HTTP APIs of the whole stack on both engines: a
 * cursor belongs to the listing and the sort that returned it; a crafted one, another listing's,
 * another sort's or a tampered one is a 400 problem+json (never a 500, never a wrong page); a real
 * one pages through every row once.
 */
describe.each(['postgres', 'sqlite'] as const)('pagination cursors on %s', (engine) => {
  const metadataXml = readFileSync(join(__dirname, '../libs/saml/src/__fixtures__/keycloak-idp-metadata.xml'), 'utf8');
  let nats: TestNats;
  let pg: TestDatabase | undefined;
  let stack: Stack;
  let token: string;
  let group: string;

  const call = async (service: ServiceName, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${stack.services[service].url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: text ? JSON.parse(text) : undefined };
  };
  const withCursor = (path: string, cursor: string) => `${path}${path.includes('?') ? '&' : '?'}cursor=${encodeURIComponent(cursor)}`;
  const withLimit = (path: string, limit: number) => `${path}${path.includes('?') ? '&' : '?'}limit=${limit}`;
  /** What cursors were before: base64url JSON `[value, id]`, which anyone could write. */
  const craft = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

  /** Every listing with a cursor: the service, the path (with its sort) and how many rows it must hold. */
  const listings: { name: string; service: ServiceName; path: () => string }[] = [
    ...['username', '-username', 'createdAt', '-createdAt', 'updatedAt', '-updatedAt'].map((sort) => ({
      name: `users sorted by ${sort}`,
      service: 'directory' as const,
      path: () => `/api/v1/users?sort=${sort}`,
    })),
    { name: 'group members', service: 'directory', path: () => `/api/v1/groups/${group}/members` },
    { name: 'groups', service: 'directory', path: () => '/api/v1/groups' },
    { name: "the directory's audit log", service: 'directory', path: () => '/api/v1/audit' },
    { name: 'login traces', service: 'auth', path: () => '/api/v1/login-traces' },
    { name: "auth's audit log", service: 'auth', path: () => '/api/v1/audit' },
    { name: 'sync runs', service: 'provisioning', path: () => '/api/v1/sync-runs' },
    { name: "provisioning's audit log", service: 'provisioning', path: () => '/api/v1/audit' },
  ];

  beforeAll(async () => {
    nats = await startNats();
    pg = engine === 'postgres' ? await createTestDatabase() : undefined;
    const roomy = { ADMIN_RATE_LIMIT_PER_MINUTE: '100000' };
    stack = new Stack({
      natsUrl: nats.url,
      databaseUrl: pg?.url,
      ports: { auth: await freePort(), directory: await freePort(), provisioning: await freePort() },
      extraEnv: { auth: roomy, directory: roomy, provisioning: roomy },
    });
    await stack.start();
    token = createAdminToken({ ...(pg ? { DATABASE_URL: pg.url } : {}), DATA_DIR: stack.dataDir });

    // Users whose three sort keys order them differently, in one group; groups; audit entries of each.
    const users: string[] = [];
    for (const name of ['mia', 'bob', 'zoe', 'ann', 'kim']) {
      const created = await call('directory', 'POST', '/api/v1/users', { username: name, email: `${name}@example.com` });
      expect(created.status).toBe(201);
      users.push(created.body.id);
    }
    for (const id of [users[3], users[0], users[4]])
      expect((await call('directory', 'PATCH', `/api/v1/users/${id}`, { displayName: `${id} changed` })).status).toBe(200);
    for (const name of ['devs', 'admins', 'ops', 'qa']) expect((await call('directory', 'POST', '/api/v1/groups', { name })).status).toBe(201);
    group = (await call('directory', 'GET', '/api/v1/groups?q=devs')).body.items[0].id;
    expect((await call('directory', 'POST', '/api/v1/memberships/bulk', { add: users.map((userId) => ({ userId, groupId: group })), remove: [] })).status).toBe(
      200,
    );

    // Auth: IdPs (audited) and login attempts (traced).
    for (const id of ['corp', 'lab', 'edu']) expect((await call('auth', 'POST', '/api/v1/idps', { id, name: id, metadataXml })).status).toBe(201);
    for (const idp of ['corp', 'lab', 'edu', 'corp'])
      expect((await fetch(`${stack.services.auth.url}/login?idp=${idp}`, { redirect: 'manual' })).status).toBe(302);

    // Provisioning: connectors (audited) and sync runs, which fail at once: no Keycloak listens there.
    for (const id of ['kc-a', 'kc-b', 'kc-c']) {
      const body = { id, idp: 'corp', baseUrl: `http://127.0.0.1:${await freePort()}`, realm: 'r', clientId: 'c', clientSecret: 's', schedule: '' };
      // No Keycloak listens there: saved with the explicit opt-out of the Keycloak checks.
      expect((await call('provisioning', 'POST', '/api/v1/connectors?verify=false', body)).status).toBe(201);
      const run = await call('provisioning', 'POST', `/api/v1/connectors/${id}/sync`);
      expect(run.status).toBe(202);
      await waitFor(
        `sync run of ${id} to end`,
        async () => (await call('provisioning', 'GET', `/api/v1/sync-runs/${run.body.id}`)).body.status !== 'running',
        30_000,
        100,
      );
    }
  }, 180_000);

  afterAll(async () => {
    if (process.env.DEBUG_STACK) for (const s of Object.values(stack.services)) console.log(s.name, s.output.slice(-4000));
    await stack?.stop();
    await pg?.drop();
    await nats?.stop();
  });

  /** The whole listing in one page, and page by page `limit` rows at a time. */
  const walk = async (service: ServiceName, path: string, limit: number) => {
    const all = await call(service, 'GET', withLimit(path, 500));
    expect(all).toMatchObject({ status: 200, body: { nextCursor: null } });
    const paged: string[] = [];
    const cursors: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await call(service, 'GET', cursor ? withCursor(withLimit(path, limit), cursor) : withLimit(path, limit));
      expect(page.status).toBe(200);
      paged.push(...page.body.items.map((i: { id: string }) => i.id));
      cursor = page.body.nextCursor;
      if (cursor) cursors.push(cursor);
    } while (cursor);
    return { all: all.body.items.map((i: { id: string }) => i.id) as string[], paged, cursors };
  };

  it.each(listings.map((l) => [l.name, l] as const))('pages through %s: every row once, in order', async (_name, l) => {
    const { all, paged, cursors } = await walk(l.service, l.path(), 2);
    expect(all.length).toBeGreaterThanOrEqual(3);
    expect(paged).toEqual(all);
    expect(cursors.length).toBeGreaterThan(0);
    for (const c of cursors) expect(c).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
  });

  it.each(listings.map((l) => [l.name, l] as const))('refuses crafted, foreign and tampered cursors on %s with 400 and changes nothing', async (_name, l) => {
    const path = withLimit(l.path(), 2);
    const id = '0192f3a4-5b6c-7d8e-9f01-23456789abcd';
    const own = (await call(l.service, 'GET', path)).body.nextCursor as string;
    expect(own).toEqual(expect.any(String));
    // A real cursor of another listing of the same service, and one of a listing of another service.
    const foreign = l.name === 'groups' ? '/api/v1/users?sort=username' : '/api/v1/groups';
    const otherListing = (await call('directory', 'GET', withLimit(foreign, 1))).body.nextCursor as string;
    const otherService = (await call(l.service === 'auth' ? 'provisioning' : 'auth', 'GET', '/api/v1/audit?limit=1')).body.nextCursor as string;
    const tampered = `${own.slice(0, -1)}${own.endsWith('A') ? 'B' : 'A'}`;
    const crafted = [
      craft([{}, {}]),
      Buffer.from('[1e309,"x"]').toString('base64url'),
      craft([{ a: 1 }, 'x']),
      craft(['2025-02-30T00:00:00.000Z', id]),
      craft(['not a date', id]),
      craft(['bob', 'not-a-uuid']),
      craft(['bob', id]),
      craft(['2025-01-01T00:00:00.000Z', id]),
      craft(['bob']),
      '%%%garbage',
      'not base64 at all!',
      Buffer.from('\u0000\u00ff\u0001').toString('base64url'),
      otherListing,
      otherService,
      tampered,
      `${own}x`,
    ];
    // A users cursor with another sort or direction.
    if (l.path().startsWith('/api/v1/users?sort=')) {
      for (const sort of ['username', '-username', 'createdAt', '-createdAt', 'updatedAt', '-updatedAt']) {
        if (l.path() !== `/api/v1/users?sort=${sort}`) crafted.push((await call('directory', 'GET', `/api/v1/users?sort=${sort}&limit=1`)).body.nextCursor);
      }
    }
    // A group-members cursor and a users cursor are of different listings.
    if (l.name === 'group members') crafted.push((await call('directory', 'GET', '/api/v1/users?sort=username&limit=1')).body.nextCursor);
    if (l.name === 'users sorted by username') crafted.push((await call('directory', 'GET', `/api/v1/groups/${group}/members?limit=1`)).body.nextCursor);

    const before = (await call(l.service, 'GET', withLimit(l.path(), 500))).body;
    for (const cursor of crafted) {
      const answer = await call(l.service, 'GET', withCursor(path, cursor));
      expect({ cursor, status: answer.status, type: answer.type, detail: answer.body?.detail }).toEqual({
        cursor,
        status: 400,
        type: expect.stringContaining('application/problem+json'),
        detail: 'cursor: not a cursor of this listing',
      });
    }
    expect((await call(l.service, 'GET', withLimit(l.path(), 500))).body).toEqual(before);
  });

  it('refuses a cursor for the members of an unknown group with 400 before looking the group up', async () => {
    const answer = await call('directory', 'GET', withCursor('/api/v1/groups/0192f3a4-5b6c-7d8e-9f01-23456789abcd/members', craft([{}, {}])));
    expect(answer).toMatchObject({ status: 400, body: { detail: 'cursor: not a cursor of this listing' } });
  });
});
