import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { METHODS } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pathToRegexp } from 'path-to-regexp';
import { createTestDatabase, freePort, startNats, TestDatabase, TestNats } from '@bridgekeeper/testing';
import { createAdminToken, ServiceName, Stack } from './support/stack';

/**
 * Deny by default, walked route by route: every route of every service, as its Express router
 * holds it (test/support/print-routes.js builds each service from dist/ and prints them), is
 * called on the running stack without a token, with a read-only one, and spelled every other way
 * a router might be talked into (letter case, percent-encoding, trailing and doubled slashes,
 * `;` parameters, HEAD, OPTIONS, a wrong method). Only the routes listed here as public may answer
 * without a token: a new public route fails this test until it is added here on purpose.
 */
const SERVICES: ServiceName[] = ['directory', 'auth', 'provisioning'];

const EVERY_SERVICE_PUBLIC = ['GET /health/live', 'GET /health/ready', 'GET /metrics'];
const EXPECTED_PUBLIC: Record<ServiceName, string[]> = {
  directory: EVERY_SERVICE_PUBLIC,
  provisioning: EVERY_SERVICE_PUBLIC,
  auth: [
    ...EVERY_SERVICE_PUBLIC,
    'GET /',
    'GET /login',
    'POST /logout',
    'GET /saml/:idp/metadata',
    'POST /saml/:idp/acs',
    'GET /saml/:idp/slo',
    'GET /saml/:idp/slo/refused',
    'POST /saml/:idp/slo',
    'GET /oidc/:idp/callback',
    'POST /oidc/:idp/backchannel-logout',
    'GET /session',
    'GET /auth/verify',
    'GET /.well-known/jwks.json',
    'GET /break-glass',
    'POST /break-glass',
  ],
};
/** The OpenAPI docs: registered by SwaggerModule on Express, outside Nest's guards, public by decision (they hold no data). */
const DOCS = /^\/api\/docs(-json|\/.*)?$/;
/**
 * Nest applies middleware bound to every path (the request logger) as a route at `/{*path}` for
 * every method: it passes every request on (an unknown path still answers 404), so it is no endpoint.
 */
const MIDDLEWARE = '/{*path}';

/** Plausible values for route parameters; any other parameter is a UUID (every route is walked, none skipped). */
const UUID = '00000000-0000-4000-8000-000000000000';
const PARAMS: Record<string, (path: string) => string> = {
  id: (path) => (path.startsWith('/api/v1/tokens/') ? '0123456789abcdef' : path.startsWith('/api/v1/idps/') ? 'corp' : UUID),
  idp: () => 'corp',
  key: () => 'department',
};

interface Route {
  method: string;
  path: string;
}
interface Marked extends Route {
  public: boolean;
  adminOnly: boolean;
  servedBy: 'nest' | 'express';
}
const key = (r: Route) => `${r.method} ${r.path}`;
const isPublic = (service: ServiceName, r: Route) => EXPECTED_PUBLIC[service].includes(key(r)) || (r.method === 'GET' && DOCS.test(r.path));
const READS = new Set(['GET', 'HEAD']);
const fill = (path: string) => path.replace(/:(\w+)/g, (_m, name: string) => PARAMS[name]?.(path) ?? UUID);

/** The routes of one service, read from its router (see test/support/print-routes.js). */
async function printRoutes(service: ServiceName, env: Record<string, string>): Promise<{ routes: Route[]; marked: Marked[] }> {
  const { stdout } = await promisify(execFile)(process.execPath, [join(__dirname, 'support/print-routes.js'), service], {
    cwd: join(__dirname, '..'),
    env: { PATH: process.env.PATH ?? '', TZ: 'UTC', NODE_ENV: 'test', LOG_LEVEL: 'silent', ...env },
    maxBuffer: 16 * 1024 * 1024,
  });
  const line = stdout.split('\n').find((l) => l.startsWith('ROUTES '));
  if (!line) throw new Error(`print-routes ${service} printed no routes:\n${stdout}`);
  const printed = JSON.parse(line.slice('ROUTES '.length)) as { routes: { path: string; methods: string[] }[]; marked: Marked[] };
  const middleware = (r: { path: string; methods: string[] }) => r.path === MIDDLEWARE && r.methods.length === METHODS.length;
  return { routes: printed.routes.filter((r) => !middleware(r)).flatMap((r) => r.methods.map((method) => ({ method, path: r.path }))), marked: printed.marked };
}

const swapCase = (s: string) => [...s].map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join('');

/** Other spellings of a route's path (before its parameters are filled): each must miss the route's handler. */
function spellings(pattern: string): string[] {
  const segs = pattern.split('/');
  const literal = segs.flatMap((s, i) => (i > 0 && s && !s.startsWith(':') ? [i] : []));
  const set = (i: number, value: string) => segs.map((s, j) => (j === i ? value : s)).join('/');
  const variants = new Set<string>();
  if (literal.length) {
    const first = literal[0];
    const last = literal[literal.length - 1];
    variants.add(set(first, segs[first].toUpperCase())); // /API/v1/tokens
    variants.add(set(last, segs[last][0].toUpperCase() + segs[last].slice(1))); // /api/v1/Tokens
    variants.add(segs.map((s, i) => (literal.includes(i) ? swapCase(s) : s)).join('/')); // /API/V1/TOKENS
    const at = segs[first].search(/[a-z]/i);
    if (at >= 0) variants.add(set(first, `${segs[first].slice(0, at)}%${segs[first].charCodeAt(at).toString(16)}${segs[first].slice(at + 1)}`)); // /%61pi/v1/tokens
    variants.add(set(first, `${segs[first]};x=1`)); // /api;x=1/v1/tokens
  }
  variants.add(pattern === '/' ? '//' : `${pattern}/`); // trailing slash
  variants.add(`/${pattern}`); // //api/v1/tokens
  if (segs.length > 2) variants.add(set(segs.length - 1, `/${segs[segs.length - 1]}`)); // /api/v1//tokens
  variants.add(`${pattern};x=1`);
  variants.delete(pattern);
  return [...variants];
}

describe('deny by default, on every route of every service', () => {
  let nats: TestNats;
  let pg: TestDatabase;
  let stack: Stack;
  let admin: string;
  let readOnly: string;
  const found = {} as Record<ServiceName, { routes: Route[]; marked: Marked[] }>;
  /** Routes each walk went through: every route, and every non-public one. */
  const walked: Record<ServiceName, Set<string>> = { directory: new Set(), auth: new Set(), provisioning: new Set() };
  const guarded: Record<ServiceName, Set<string>> = { directory: new Set(), auth: new Set(), provisioning: new Set() };

  beforeAll(async () => {
    nats = await startNats();
    // The routes, as each service's router holds them: built from dist/ one at a time, before the stack runs.
    const scratch = mkdtempSync(join(tmpdir(), 'bk-routes-'));
    try {
      for (const service of SERVICES) found[service] = await printRoutes(service, { NATS_URL: nats.url, DATA_DIR: scratch });
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
    pg = await createTestDatabase();
    const unlimited = { ADMIN_RATE_LIMIT_PER_MINUTE: '1000000' };
    stack = new Stack({
      natsUrl: nats.url,
      databaseUrl: pg.url,
      ports: { auth: await freePort(), directory: await freePort(), provisioning: await freePort() },
      extraEnv: { auth: unlimited, directory: unlimited, provisioning: unlimited },
    });
    await stack.start();
    admin = createAdminToken({ DATABASE_URL: pg.url, DATA_DIR: stack.dataDir });
    readOnly = createAdminToken({ DATABASE_URL: pg.url, DATA_DIR: stack.dataDir }, 'read-only');
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
    await pg?.drop();
    await nats?.stop();
  });

  async function call(service: ServiceName, method: string, path: string, token?: string) {
    const res = await fetch(`${stack.services[service].url}${path}`, {
      method,
      redirect: 'manual',
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(READS.has(method) || method === 'OPTIONS' ? {} : { 'content-type': 'application/json' }),
      },
      body: READS.has(method) || method === 'OPTIONS' ? undefined : '{}',
    });
    const body = await res.text();
    return { status: res.status, allow: res.headers.get('allow'), type: res.headers.get('content-type') ?? '', body };
  }

  /** The methods the router serves for a concrete path (every route pattern that matches it). */
  function methodsAt(service: ServiceName, concrete: string): string[] {
    const methods = found[service].routes.filter((r) => pathToRegexp(r.path, { sensitive: true, trailing: false }).regexp.test(concrete)).map((r) => r.method);
    if (methods.includes('GET')) methods.push('HEAD');
    return [...new Set(methods)].sort();
  }

  it.each(SERVICES)('%s: the routes it marks public are exactly the expected ones; every other route is behind Nest’s guard', (service) => {
    const { routes, marked } = found[service];
    expect(routes.length).toBeGreaterThan(service === 'auth' ? 20 : 10);
    const routeKeys = new Set(routes.map(key));
    const nest = marked.filter((m) => m.servedBy === 'nest');
    // The route table and the router agree: every route of Nest's is in the router.
    expect(nest.filter((m) => !routeKeys.has(key(m))).map(key)).toEqual([]);
    expect(
      nest
        .filter((m) => m.public)
        .map(key)
        .sort(),
    ).toEqual([...EXPECTED_PUBLIC[service]].sort());
    // What the router holds beyond Nest's routes bypasses Nest's guards: only the OpenAPI docs may,
    // and the route table declares them (for its 405 answers).
    const nestKeys = new Set(nest.map(key));
    const outside = routes.filter((r) => !nestKeys.has(key(r)));
    expect(outside.filter((r) => !(r.method === 'GET' && DOCS.test(r.path))).map(key)).toEqual([]);
    expect(outside.map((r) => r.path)).toEqual(expect.arrayContaining(['/api/docs', '/api/docs-json']));
    const declared = marked.filter((m) => m.servedBy === 'express');
    expect(declared.every((m) => m.method === 'GET' && m.public)).toBe(true);
    for (const r of outside)
      expect([key(r), declared.some((d) => pathToRegexp(d.path, { sensitive: true, trailing: false }).regexp.test(r.path))]).toEqual([key(r), true]);
  });

  it.each(SERVICES)('%s: every non-public route answers 401 without a valid token and 403 to a read-only token on a write', async (service) => {
    const adminOnly = new Set(found[service].marked.filter((m) => m.adminOnly).map(key));
    const problems: string[] = [];
    for (const route of found[service].routes.filter((r) => !isPublic(service, r))) {
      const path = fill(route.path);
      const label = `${route.method} ${path}`;
      const none = (await call(service, route.method, path)).status;
      if (none !== 401) problems.push(`${label} without a token: ${none}`);
      const bogus = (await call(service, route.method, path, `bk_0000000000000000_${'x'.repeat(43)}`)).status;
      if (bogus !== 401) problems.push(`${label} with an unknown token: ${bogus}`);
      const ro = (await call(service, route.method, path, readOnly)).status;
      const refused = !READS.has(route.method) || adminOnly.has(key(route));
      if (refused ? ro !== 403 : [401, 403, 405].includes(ro)) problems.push(`${label} with a read-only token: ${ro}`);
      guarded[service].add(key(route));
    }
    expect(problems).toEqual([]);
  });

  it.each(SERVICES)('%s: no other spelling of a route, HEAD or OPTIONS reaches a handler without a token', async (service) => {
    const problems: string[] = [];
    for (const route of found[service].routes) {
      const path = fill(route.path);
      // (swagger-ui's files are served by a static file handler that takes `//` for `/`: public, no data)
      // The second line: routing itself is case-sensitive and strict, so another spelling of a
      // non-public route finds no route at all (404 / 405) — a 401 would mean it reached the
      // handler and only the guard stopped it. Only `;x=1` after a final parameter is that
      // parameter's value, the same route.
      const paramTail = /\/:[^/]+$/.test(route.path) ? `${route.path};x=1` : undefined;
      for (const raw of DOCS.test(route.path) ? [] : spellings(route.path)) {
        const variant = fill(raw);
        const { status } = await call(service, route.method, variant);
        const allowed = isPublic(service, route) || raw === paramTail ? [401, 404, 405] : [404, 405];
        if (!allowed.includes(status)) problems.push(`${route.method} ${variant}: ${status}`);
      }
      const methods = methodsAt(service, path);
      if (!isPublic(service, route)) {
        const head = await call(service, 'HEAD', path);
        if (head.status !== (methods.includes('GET') ? 401 : 405)) problems.push(`HEAD ${path}: ${head.status}`);
      }
      // No route serves OPTIONS (there is no CORS): 405 naming what the path does serve, never 200.
      const options = await call(service, 'OPTIONS', path);
      if (options.status !== 405 || options.allow !== methods.join(', ')) problems.push(`OPTIONS ${path}: ${options.status}, Allow: ${options.allow}`);
      // A method the path does not serve: 405 with Allow, as problem+json.
      const wrong = ['PATCH', 'PUT', 'DELETE', 'POST', 'GET'].find((m) => !methods.includes(m));
      if (wrong) {
        const res = await call(service, wrong, path);
        if (res.status !== 405 || res.allow !== methods.join(', ') || !res.type.includes('application/problem+json')) {
          problems.push(`${wrong} ${path}: ${res.status}, Allow: ${res.allow}, ${res.type}`);
        }
      }
      walked[service].add(key(route));
    }
    expect(problems).toEqual([]);
  });

  it('walked every route of every service, and knows the ones that matter', () => {
    for (const service of SERVICES) {
      const all = found[service].routes;
      expect([service, [...walked[service]].sort()]).toEqual([service, [...new Set(all.map(key))].sort()]);
      expect([service, [...guarded[service]].sort()]).toEqual([service, [...new Set(all.filter((r) => !isPublic(service, r)).map(key))].sort()]);
    }
    expect(found.directory.routes.map(key)).toEqual(
      expect.arrayContaining(['GET /api/v1/tokens', 'DELETE /api/v1/tokens/:id', 'GET /api/v1/users', 'GET /api/v1/audit']),
    );
    expect(found.auth.routes.map(key)).toEqual(
      expect.arrayContaining(['GET /api/v1/login-traces', 'POST /api/v1/idps/:id/refresh-metadata', 'POST /saml/:idp/acs']),
    );
    expect(found.provisioning.routes.map(key)).toEqual(expect.arrayContaining(['POST /api/v1/idps/:idp/simulate', 'GET /api/v1/connectors']));
  });

  it('answers with a token as before: the walk is not passing because everything is refused', async () => {
    expect((await call('directory', 'GET', '/api/v1/users', readOnly)).status).toBe(200);
    expect((await call('directory', 'GET', '/api/v1/tokens', admin)).status).toBe(200);
    expect((await call('auth', 'GET', '/api/v1/idps', readOnly)).status).toBe(200);
    expect((await call('provisioning', 'GET', '/api/v1/connectors', readOnly)).status).toBe(200);
    expect((await call('auth', 'GET', '/.well-known/jwks.json')).status).toBe(200);
    expect((await call('directory', 'GET', '/health/live')).status).toBe(200);
    expect((await call('directory', 'GET', '/api/docs-json')).status).toBe(200);
    expect((await call('directory', 'GET', '/no/such/path')).status).toBe(404);
  });
});
