import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createTestDatabase, freePort, startNats, TestDatabase, TestNats } from '@bridgekeeper/testing';
import { createAdminToken, ServiceName, Stack } from './support/stack';

/**
 * Input hygiene on every route of the three services (issue 25), through their HTTP APIs as
 * processes on real NATS, on both engines: a NUL or an unpaired surrogate in any text (body values
 * and member names, path and query parameters, percent-encoded or not) is a 400 naming the field;
 * `__proto__`, `constructor` and `prototype` are never a name; a body that is not JSON in UTF-8 is a
 * 415; requests Node's parser refuses (headers too large: 431) get problem+json too. Each refusal
 * changes nothing: the state read back afterwards is the state before.
 */
describe.each(['postgres', 'sqlite'] as const)('input hygiene on %s', (engine) => {
  const metadataXml = readFileSync(join(__dirname, '../libs/saml/src/__fixtures__/keycloak-idp-metadata.xml'), 'utf8');
  let nats: TestNats;
  let pg: TestDatabase | undefined;
  let stack: Stack;
  let token: string;
  let ann: { id: string };
  let staff: { id: string };

  interface Answer {
    status: number;
    type: string;
    allow: string | null;
    body: any;
  }
  /** A request with the body sent as given (a string or bytes: the test decides every byte), JSON by default. */
  const send = async (
    service: ServiceName,
    method: string,
    path: string,
    body?: string | Buffer,
    contentType: string | null = 'application/json',
    headers: Record<string, string> = {},
  ): Promise<Answer> => {
    const res = await fetch(`${stack.services[service].url}${path}`, {
      method,
      redirect: 'manual',
      headers: { authorization: `Bearer ${token}`, ...(contentType === null ? {} : { 'content-type': contentType }), ...headers },
      body: typeof body === 'string' || body === undefined ? body : new Uint8Array(body),
    });
    const text = await res.text();
    const type = res.headers.get('content-type') ?? '';
    return { status: res.status, type, allow: res.headers.get('allow'), body: text && type.includes('json') ? JSON.parse(text) : text };
  };
  /** JSON.stringify writes a NUL as \u0000 and a lone surrogate as \ud800: well-formed JSON that parses back to them. */
  const call = (service: ServiceName, method: string, path: string, body?: unknown) =>
    send(service, method, path, body === undefined ? undefined : JSON.stringify(body), body === undefined ? null : 'application/json');
  const refused = (status: number, errors?: { field: string; message: string }[]) =>
    expect.objectContaining({
      status,
      type: expect.stringContaining('application/problem+json'),
      body: expect.objectContaining({ status, ...(errors ? { errors } : {}) }),
    });

  /** Everything the refused requests could have changed, read back through the APIs. */
  const state = async () => ({
    ann: (await call('directory', 'GET', `/api/v1/users/${ann.id}`)).body,
    staff: (await call('directory', 'GET', `/api/v1/groups/${staff.id}`)).body,
    users: (await call('directory', 'GET', '/api/v1/users?limit=100')).body.items.map((u: { username: string }) => u.username),
    idps: (await call('auth', 'GET', '/api/v1/idps')).body,
    settings: (await call('provisioning', 'GET', '/api/v1/idps/corp/provisioning')).body,
    connectors: (await call('provisioning', 'GET', '/api/v1/connectors')).body,
  });

  const mapping = {
    username: { source: 'subject', lowercase: false },
    email: ['mail'],
    firstName: [],
    lastName: [],
    displayName: ['cn'],
    groups: { attribute: ['memberOf'], naming: 'path', rules: [], skipUnmatched: false },
    properties: { department: 'dept' },
  };
  const settings = { model: 'jit', mapping, updateOnLogin: true, grantLocalGroups: [], claimLocalUsers: false };
  const NUL = 'contains a NUL character';
  const SURROGATE = 'contains an unpaired surrogate';
  const RESERVED = 'is a reserved name (__proto__, constructor, prototype)';

  beforeAll(async () => {
    nats = await startNats();
    pg = engine === 'postgres' ? await createTestDatabase() : undefined;
    stack = new Stack({
      natsUrl: nats.url,
      databaseUrl: pg?.url,
      ports: { auth: await freePort(), directory: await freePort(), provisioning: await freePort() },
    });
    await stack.start();
    token = createAdminToken({ ...(pg ? { DATABASE_URL: pg.url } : {}), DATA_DIR: stack.dataDir });
    ann = (await call('directory', 'POST', '/api/v1/users', { username: 'ann', displayName: 'Ann Example', externalId: 'kc-ann' })).body;
    staff = (await call('directory', 'POST', '/api/v1/groups', { name: 'staff', description: 'Everyone on staff' })).body;
    expect((await call('directory', 'PUT', `/api/v1/users/${ann.id}/properties/dept`, { value: 'engineering' })).status).toBe(200);
    expect((await call('auth', 'POST', '/api/v1/idps', { id: 'corp', name: 'Corp SSO', metadataXml })).status).toBe(201);
    expect((await call('provisioning', 'PUT', '/api/v1/idps/corp/provisioning', settings)).status).toBe(200);
  }, 120_000);

  afterAll(async () => {
    if (process.env.DEBUG_STACK) for (const s of Object.values(stack.services)) console.log(s.name, s.output.slice(-4000));
    await stack?.stop();
    await pg?.drop();
    await nats?.stop();
  });

  it.each([
    ['a NUL', 'a\u0000b', NUL],
    ['an unpaired surrogate', 'a\uD800b', SURROGATE],
    ['an unpaired low surrogate', '\uDFFFz', SURROGATE],
  ])('refuses %s in every text field with a 400 naming the field, and stores nothing', async (_what, bad, message) => {
    const before = await state();
    const answers: [Answer, string][] = [
      [await call('directory', 'POST', '/api/v1/users', { username: 'zed', displayName: bad }), 'displayName'],
      [await call('directory', 'PATCH', `/api/v1/users/${ann.id}`, { displayName: bad }), 'displayName'],
      [await call('directory', 'PATCH', `/api/v1/users/${ann.id}`, { externalId: bad }), 'externalId'],
      [await call('directory', 'PATCH', `/api/v1/groups/${staff.id}`, { description: bad }), 'description'],
      [await call('directory', 'PUT', `/api/v1/users/${ann.id}/properties/dept`, { value: bad }), 'value'],
      [
        await call('directory', 'POST', '/api/v1/users/bulk', {
          users: [
            { username: 'ann', displayName: 'fine' },
            { username: 'zed', properties: { dept: bad } },
          ],
        }),
        'users.1.properties.dept',
      ],
      [await call('auth', 'PATCH', '/api/v1/idps/corp', { name: bad }), 'name'],
      [await call('auth', 'POST', '/api/v1/idps', { id: 'other', name: bad, metadataXml }), 'name'],
      [
        await call('provisioning', 'PUT', '/api/v1/idps/corp/provisioning', { ...settings, mapping: { ...mapping, properties: { department: bad } } }),
        'mapping.properties.department',
      ],
      [
        await send('provisioning', 'PATCH', '/api/v1/idps/corp/provisioning', JSON.stringify({ mapping: { email: [bad] } }), 'application/merge-patch+json'),
        'mapping.email.0',
      ],
    ];
    for (const [answer, field] of answers) expect(answer).toEqual(refused(400, [{ field, message }]));
    expect(answers[0][0].body.detail).toBe(`displayName: ${message}`);
    expect(await state()).toEqual(before);
  });

  it('refuses them in path and query parameters, percent-encoded (%00, or %ED%A0%80 that is no UTF-8), on public routes too', async () => {
    const before = await state();
    expect(await call('directory', 'PUT', `/api/v1/users/${ann.id}/properties/a%00`, { value: 'x' })).toEqual(refused(400, [{ field: 'key', message: NUL }]));
    expect(await call('directory', 'PUT', `/api/v1/users/${ann.id}/properties/a%ED%A0%80`, { value: 'x' })).toEqual(refused(400));
    expect(await call('directory', 'GET', '/api/v1/users?q=a%00')).toEqual(refused(400, [{ field: 'q', message: NUL }]));
    expect(await call('directory', 'GET', '/api/v1/users?q=a%ED%A0%80')).toEqual(refused(400, [{ field: 'q', message: 'is not valid percent-encoded UTF-8' }]));
    expect(await call('directory', 'GET', '/api/v1/users?q=%FF')).toEqual(refused(400, [{ field: 'q', message: 'is not valid percent-encoded UTF-8' }]));
    expect(await call('auth', 'GET', '/api/v1/login-traces?idp=corp%00')).toEqual(refused(400, [{ field: 'idp', message: NUL }]));
    expect(await call('provisioning', 'GET', '/api/v1/idps/corp%00/provisioning')).toEqual(refused(400, [{ field: 'idp', message: NUL }]));
    expect(await call('provisioning', 'DELETE', '/api/v1/idps/corp%00/provisioning')).toEqual(refused(400, [{ field: 'idp', message: NUL }]));
    // the public login takes text too (returnTo)
    expect(await send('auth', 'GET', '/login?idp=corp&returnTo=%2Fapp%00', undefined, null)).toEqual(refused(400, [{ field: 'returnTo', message: NUL }]));
    expect(await state()).toEqual(before);
  });

  it('one rule for __proto__, constructor and prototype: never a member, parameter or key name, nor an id (400, nothing stored)', async () => {
    const before = await state();
    for (const name of ['__proto__', 'constructor', 'prototype']) {
      expect(await call('directory', 'PUT', `/api/v1/users/${ann.id}/properties/${name}`, { value: 'x' })).toEqual(
        refused(400, [{ field: 'key', message: RESERVED }]),
      );
      expect(await call('directory', 'DELETE', `/api/v1/users/${ann.id}/properties/${name}`)).toEqual(refused(400, [{ field: 'key', message: RESERVED }]));
      expect(await send('directory', 'POST', '/api/v1/users/bulk', `{"users":[{"username":"zed","properties":{"dept":"x","${name}":"y"}}]}`)).toEqual(
        refused(400, [{ field: `users.0.properties.${name}`, message: RESERVED }]),
      );
      expect(await send('directory', 'POST', '/api/v1/users', `{"username":"zed","${name}":{"admin":true}}`)).toEqual(
        refused(400, [{ field: name, message: RESERVED }]),
      );
      expect(
        await send(
          'provisioning',
          'PUT',
          '/api/v1/idps/corp/provisioning',
          JSON.stringify({ ...settings, mapping: { ...mapping, properties: { department: 'dept' } } }).replace('"department"', `"${name}"`),
        ),
      ).toEqual(refused(400, [{ field: `mapping.properties.${name}`, message: RESERVED }]));
      expect(
        await send('provisioning', 'PATCH', '/api/v1/idps/corp/provisioning', `{"mapping":{"${name}":{"polluted":true}}}`, 'application/merge-patch+json'),
      ).toEqual(refused(400, [{ field: `mapping.${name}`, message: RESERVED }]));
      expect(await call('directory', 'GET', `/api/v1/users?${name}=1`)).toEqual(refused(400, [{ field: name, message: RESERVED }]));
      expect(
        await call('provisioning', 'POST', '/api/v1/connectors', {
          id: 'kc',
          idp: 'corp',
          baseUrl: 'http://127.0.0.1:8080',
          realm: 'r',
          clientId: 'c',
          clientSecret: 's',
          attributes: ['dept', name],
        }),
      ).toEqual(refused(400, [{ field: 'attributes.1', message: RESERVED }]));
    }
    // ids that would become path parameters (`/saml/{idp}/acs`): refused where they are made
    for (const id of ['constructor', 'prototype']) {
      expect(await call('auth', 'POST', '/api/v1/idps', { id, name: 'X', metadataXml })).toMatchObject({
        status: 400,
        body: { errors: [{ field: 'id', message: RESERVED }] },
      });
      expect(
        await call('provisioning', 'POST', '/api/v1/connectors', {
          id,
          idp: 'corp',
          baseUrl: 'http://127.0.0.1:8080',
          realm: 'r',
          clientId: 'c',
          clientSecret: 's',
        }),
      ).toMatchObject({
        status: 400,
        body: { errors: [{ field: 'id', message: RESERVED }] },
      });
    }
    // a value may be any of those words
    expect((await call('directory', 'PUT', `/api/v1/users/${ann.id}/properties/note`, { value: 'constructor' })).status).toBe(200);
    expect((await call('directory', 'DELETE', `/api/v1/users/${ann.id}/properties/note`)).status).toBe(200);
    expect(await state()).toEqual(before);
  });

  it('answers 415 to a body that is not JSON in UTF-8 on any admin write, on every service, and changes nothing', async () => {
    const before = await state();
    const user = JSON.stringify({ username: 'tex' });
    const bodies: [string | Buffer, string | null][] = [
      [user, 'text/plain'],
      ['username=tex', 'application/x-www-form-urlencoded'],
      [Buffer.from(user, 'utf16le'), 'application/json; charset=utf-16'],
      [Buffer.from(user, 'utf16le'), 'application/json; charset=utf-16le'],
      [user, 'application/json; charset=iso-8859-1'],
      [user, 'application/merge-patch+json'],
      [user, 'application/jsonx'],
      [user, null], // fetch sends a string as text/plain when told nothing
    ];
    for (const [body, type] of bodies) expect([type, await send('directory', 'POST', '/api/v1/users', body, type)]).toEqual([type, refused(415)]);
    expect(await send('directory', 'PATCH', `/api/v1/users/${ann.id}`, 'displayName=Tex', 'application/x-www-form-urlencoded')).toEqual(refused(415));
    expect(await send('directory', 'PUT', `/api/v1/users/${ann.id}/properties/dept`, 'value=x', 'application/x-www-form-urlencoded')).toEqual(refused(415));
    expect(await send('auth', 'PATCH', '/api/v1/idps/corp', JSON.stringify({ name: 'Tex' }), 'text/plain')).toEqual(refused(415));
    expect(
      await send('auth', 'PATCH', '/api/v1/idps/corp', Buffer.from(JSON.stringify({ name: 'Tex' }), 'utf16le'), 'application/json; charset=utf-16'),
    ).toEqual(refused(415));
    expect(await send('provisioning', 'PUT', '/api/v1/idps/corp/provisioning', 'model=manual', 'application/x-www-form-urlencoded')).toEqual(refused(415));
    expect(await send('provisioning', 'PATCH', '/api/v1/idps/corp/provisioning', JSON.stringify({ model: 'manual' }), 'text/plain')).toEqual(refused(415));
    expect(
      await send(
        'provisioning',
        'PATCH',
        '/api/v1/idps/corp/provisioning',
        Buffer.from(JSON.stringify({ model: 'manual' }), 'utf16le'),
        'application/merge-patch+json; charset=utf-16',
      ),
    ).toEqual(refused(415));
    // bytes that are not UTF-8 in a UTF-8 body: refused, where the decoder would store U+FFFD
    expect(
      await send(
        'directory',
        'PATCH',
        `/api/v1/users/${ann.id}`,
        Buffer.concat([Buffer.from('{"displayName":"Ann '), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]),
      ),
    ).toEqual(refused(400));
    expect(await state()).toEqual(before);
  });

  it('keeps working: merge patches on settings, UTF-8 JSON with any text, empty POSTs with or without a media type, public form posts', async () => {
    const patched = await send(
      'provisioning',
      'PATCH',
      '/api/v1/idps/corp/provisioning',
      JSON.stringify({ updateOnLogin: false }),
      'application/merge-patch+json',
    );
    expect(patched).toMatchObject({ status: 200, body: { updateOnLogin: false, mapping } });
    expect(
      await send('provisioning', 'PATCH', '/api/v1/idps/corp/provisioning', JSON.stringify({ updateOnLogin: null }), 'application/json; charset=UTF-8'),
    ).toMatchObject({ status: 200, body: { updateOnLogin: true } });

    // paired surrogates (an emoji), U+FFFD and the like are ordinary text
    const name = 'Ann 😀 \uD83D\uDE00 \uFFFD Ünïcode';
    expect(await send('directory', 'PATCH', `/api/v1/users/${ann.id}`, JSON.stringify({ displayName: name }), 'application/json; charset=utf-8')).toMatchObject(
      { status: 200, body: { displayName: name } },
    );
    expect((await call('directory', 'GET', `/api/v1/users/${ann.id}`)).body.displayName).toBe(name);
    expect((await call('directory', 'GET', `/api/v1/users?q=${encodeURIComponent('😀')}`)).body.items.map((u: { username: string }) => u.username)).toEqual([
      'ann',
    ]);

    // a POST that needs no body works with or without a content type, and an empty body of any type
    expect((await send('directory', 'POST', `/api/v1/users/${ann.id}/disable`, undefined, null)).body).toMatchObject({ active: false });
    expect((await send('directory', 'POST', `/api/v1/users/${ann.id}/enable`, '', 'application/json')).body).toMatchObject({ active: true });
    expect((await send('directory', 'POST', `/api/v1/users/${ann.id}/disable`, '', 'text/plain')).body).toMatchObject({ active: false });
    expect((await send('directory', 'POST', `/api/v1/users/${ann.id}/enable`, undefined, null)).body).toMatchObject({ active: true });
    expect((await send('auth', 'POST', '/api/v1/idps/corp/sp-keys/rotate', undefined, null)).status).toBeLessThan(300);

    // public routes keep their form bodies (break-glass, the ACS): no 415 there
    const form = await send('auth', 'POST', '/break-glass', 'username=nobody&password=wrong', 'application/x-www-form-urlencoded');
    expect(form.status).not.toBe(415);
    expect(form.type).not.toContain('problem+json');
  });

  it('answers requests Node refuses (headers too large: 431; malformed) with problem+json, and a wrong method with 405 and Allow', async () => {
    for (const service of ['auth', 'directory', 'provisioning'] as const) {
      const big = await send(service, 'GET', '/health/live', undefined, null, { 'x-padding': 'a'.repeat(64 * 1024) });
      expect(big).toEqual({
        status: 431,
        type: 'application/problem+json; charset=utf-8',
        allow: null,
        body: {
          type: 'https://bridgekeeper.dev/problems/431',
          title: 'request header fields too large',
          status: 431,
          detail: 'the request headers are too large',
        },
      });
    }
    const malformed = await new Promise<string>((resolve, reject) => {
      const socket = connect(stack.services.directory.port, '127.0.0.1', () => socket.end('GET /api/v1/users/\u00ff HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1'));
      let out = '';
      socket.on('data', (d) => (out += d));
      socket.on('close', () => resolve(out));
      socket.on('error', reject);
    });
    expect(malformed).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(malformed).toContain('Content-Type: application/problem+json');
    expect(JSON.parse(malformed.slice(malformed.indexOf('\r\n\r\n') + 4))).toMatchObject({ status: 400, detail: 'the request is not well-formed HTTP' });

    expect(await call('directory', 'POST', '/api/v1/seats', {})).toMatchObject({
      status: 405,
      allow: 'GET, HEAD',
      type: expect.stringContaining('application/problem+json'),
    });
    // a wrong method stays a 405 whatever its body
    expect(await send('directory', 'PUT', '/api/v1/users', 'x', 'text/plain')).toMatchObject({ status: 405, allow: 'GET, HEAD, POST' });
    expect(await send('provisioning', 'POST', '/api/v1/idps/corp/provisioning', 'a\u0000', 'text/plain')).toMatchObject({
      status: 405,
      allow: 'DELETE, GET, HEAD, PATCH, PUT',
    });
  });
});
