import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, JSONCodec } from 'nats';
import { createEvent, IdpCreatedV1, IdpDeletedV1, IdpUpdatedV1, STREAMS } from '@bridgekeeper/contracts';
import { createTestDatabase, freePort, startNats, TestDatabase, TestNats, waitFor } from '@bridgekeeper/testing';
import { createAdminToken, ServiceName, Stack } from './support/stack';

/**
 * Provisioning settings that never lose data, through the HTTP APIs of the whole stack (auth,
 * directory, provisioning as processes over real NATS) on both engines: PUT takes a whole document,
 * PATCH merges (RFC 7396), DELETE goes back to the defaults; settings exist only for IdPs auth
 * knows (404 otherwise, also for the simulator); deleting an IdP in auth removes its settings,
 * audited with the actor who deleted it; mapping regexes cannot stall provisioning.
 */
describe.each(['postgres', 'sqlite'] as const)('provisioning settings per IdP on %s', (engine) => {
  const metadataXml = readFileSync(join(__dirname, '../libs/saml/src/__fixtures__/keycloak-idp-metadata.xml'), 'utf8');
  let nats: TestNats;
  let pg: TestDatabase | undefined;
  let stack: Stack;
  let token: string;

  const call = async (service: ServiceName, method: string, path: string, body?: unknown, contentType = 'application/json') => {
    const res = await fetch(`${stack.services[service].url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': contentType }) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: text ? JSON.parse(text) : undefined };
  };
  const settingsOf = (idp: string) => call('provisioning', 'GET', `/api/v1/idps/${idp}/provisioning`);
  const audit = async (idp: string) =>
    (await call('provisioning', 'GET', `/api/v1/audit?targetType=idp-settings&targetId=${idp}`)).body.items as {
      action: string;
      actor: string;
      before: any;
      after: any;
    }[];
  const createIdp = async (id: string) => expect((await call('auth', 'POST', '/api/v1/idps', { id, name: id, metadataXml })).status).toBe(201);

  const mapping = {
    username: { source: 'subject', lowercase: false },
    email: ['mail'],
    firstName: [],
    lastName: [],
    displayName: ['cn'],
    groups: { attribute: ['memberOf'], naming: 'path', rules: [{ match: '^eng/(.+)$', rename: 'dev-$1' }], skipUnmatched: false },
    properties: { department: 'dept' },
  };
  const whole = { model: 'jit', mapping, updateOnLogin: false, grantLocalGroups: ['staff'], claimLocalUsers: true };

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
    for (const id of ['corp', 'gone', 'regex', 'again']) await createIdp(id);
  }, 120_000);

  afterAll(async () => {
    if (process.env.DEBUG_STACK) for (const s of Object.values(stack.services)) console.log(s.name, s.output.slice(-4000));
    await stack?.stop();
    await pg?.drop();
    await nats?.stop();
  });

  it('answers 404 for an IdP that does not exist or an id that cannot be one, and stores nothing', async () => {
    const answers = async (idp: string) => [
      await settingsOf(idp),
      await call('provisioning', 'PUT', `/api/v1/idps/${idp}/provisioning`, whole),
      await call('provisioning', 'PATCH', `/api/v1/idps/${idp}/provisioning`, { model: 'manual' }, 'application/merge-patch+json'),
      await call('provisioning', 'DELETE', `/api/v1/idps/${idp}/provisioning`),
      await call('provisioning', 'POST', `/api/v1/idps/${idp}/simulate`, { subject: 'gina', attributes: {} }),
      await call('provisioning', 'POST', `/api/v1/idps/${idp}/provisioning/mapping-preset`, { preset: 'okta' }),
    ];
    for (const idp of ['nope', encodeURIComponent('UX Probe/../x'), 'local']) {
      for (const a of await answers(idp))
        expect(a).toMatchObject({
          status: 404,
          type: expect.stringContaining('application/problem+json'),
          body: { status: 404, detail: expect.stringContaining('unknown identity provider') },
        });
    }
    // a NUL or a reserved name is refused before any IdP is looked up (test/input-hygiene.int-spec.ts)
    for (const [idp, message] of [
      ['A%00', 'contains a NUL character'],
      ['constructor', 'is a reserved name (__proto__, constructor, prototype)'],
    ]) {
      for (const a of await answers(idp)) expect(a).toMatchObject({ status: 400, body: { errors: [{ field: 'idp', message }] } });
    }
    expect((await call('provisioning', 'GET', '/api/v1/audit?targetType=idp-settings')).body.items).toEqual([]);
  });

  it('knows the IdPs auth had before provisioning heard of them, and the ones created since', async () => {
    // `keycloak` is created by auth at its first start (the environment's IdP): no event ever named it.
    expect(await settingsOf('keycloak')).toMatchObject({ status: 200, body: { idp: 'keycloak', origin: 'environment' } });
    await createIdp('fresh');
    expect(await call('provisioning', 'PATCH', `/api/v1/idps/fresh/provisioning`, { model: 'manual' }, 'application/merge-patch+json')).toMatchObject({
      status: 200,
      body: { idp: 'fresh', model: 'manual', origin: 'api' },
    });
  });

  it('PUT refuses an incomplete document, naming what is missing, and changes nothing', async () => {
    expect(await call('provisioning', 'PUT', '/api/v1/idps/corp/provisioning', whole)).toMatchObject({
      status: 200,
      body: { ...whole, idp: 'corp', origin: 'api' },
    });
    const partial = await call('provisioning', 'PUT', '/api/v1/idps/corp/provisioning', { model: 'manual' });
    expect(partial.status).toBe(400);
    expect(partial.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['claimLocalUsers', 'grantLocalGroups', 'mapping', 'updateOnLogin']);
    expect((await settingsOf('corp')).body).toMatchObject({ ...whole, origin: 'api' });
  });

  it('PATCH changes only what it names (JSON merge patch); null falls back to the default; audited before and after', async () => {
    await call('provisioning', 'PUT', '/api/v1/idps/corp/provisioning', whole);
    const auditBefore = (await audit('corp')).length;

    const manual = await call('provisioning', 'PATCH', '/api/v1/idps/corp/provisioning', { model: 'manual' }, 'application/merge-patch+json');
    expect(manual).toMatchObject({ status: 200, body: { ...whole, model: 'manual', origin: 'api' } });
    expect(manual.body.mapping).toEqual(mapping);

    // application/json is taken as a merge patch too; nested objects merge, null removes a member
    const nested = await call('provisioning', 'PATCH', '/api/v1/idps/corp/provisioning', { mapping: { groups: { rules: null, naming: 'leaf' } } });
    expect(nested.status).toBe(200);
    expect(nested.body.mapping).toEqual({ ...mapping, groups: { attribute: ['memberOf'], naming: 'leaf', skipUnmatched: false } });

    const defaults = await call(
      'provisioning',
      'PATCH',
      '/api/v1/idps/corp/provisioning',
      { grantLocalGroups: null, updateOnLogin: null, claimLocalUsers: null },
      'application/merge-patch+json',
    );
    expect(defaults.body).toMatchObject({ model: 'manual', grantLocalGroups: [], updateOnLogin: true, claimLocalUsers: false });
    const keycloakMapping = (await settingsOf('keycloak')).body.mapping;
    expect((await call('provisioning', 'PATCH', '/api/v1/idps/corp/provisioning', { mapping: null }, 'application/merge-patch+json')).body.mapping).toEqual(
      keycloakMapping,
    );

    const log = await audit('corp');
    expect(log.length - auditBefore).toBe(4);
    expect(log[log.length - auditBefore - 1]).toMatchObject({
      action: 'idp-settings.updated',
      actor: expect.stringMatching(/^admin-token:/),
      before: { model: 'jit', mapping },
      after: { model: 'manual', mapping },
    });
  });

  it('PATCH validates the merged document like PUT: a bad result is a 400 naming the field, and changes nothing', async () => {
    await call('provisioning', 'PUT', '/api/v1/idps/corp/provisioning', whole);
    const auditBefore = (await audit('corp')).length;
    const cases: [unknown, string][] = [
      [{ model: null }, 'model'],
      [{ model: 'sometimes' }, 'model'],
      [{ mapping: { groups: { rules: [{ match: '(' }] } } }, 'mapping.groups.rules.0.match'],
      [{ mapping: { email: null } }, 'mapping.email'],
      [{ extra: true }, ''],
    ];
    for (const [patch, field] of cases) {
      const res = await call('provisioning', 'PATCH', '/api/v1/idps/corp/provisioning', patch, 'application/merge-patch+json');
      expect(res).toMatchObject({ status: 400, type: expect.stringContaining('application/problem+json') });
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    }
    const notJson = await call('provisioning', 'PATCH', '/api/v1/idps/corp/provisioning', 'model=manual', 'text/plain');
    expect(notJson).toMatchObject({ status: 415, type: expect.stringContaining('application/problem+json') });
    expect((await settingsOf('corp')).body).toMatchObject({ ...whole, origin: 'api' });
    expect(await audit('corp')).toHaveLength(auditBefore);
  });

  it('DELETE puts an IdP back to the defaults, audited', async () => {
    await call('provisioning', 'PUT', '/api/v1/idps/corp/provisioning', whole);
    const reset = await call('provisioning', 'DELETE', '/api/v1/idps/corp/provisioning');
    expect(reset).toMatchObject({
      status: 200,
      body: { idp: 'corp', model: 'jit', origin: 'environment', updateOnLogin: true, grantLocalGroups: [], claimLocalUsers: false },
    });
    expect((await settingsOf('corp')).body).toMatchObject({ origin: 'environment' });
    expect((await audit('corp'))[0]).toMatchObject({
      action: 'idp-settings.reset',
      actor: expect.stringMatching(/^admin-token:/),
      before: { model: 'jit', mapping },
      after: null,
    });
  });

  it('adds an IdP with the mapping preset of its family: provisioning stores that mapping, audited by the admin who added the IdP; a preset no family has is a 400', async () => {
    const added = await call('auth', 'POST', '/api/v1/idps', { id: 'okta', name: 'Okta', metadataXml, mappingPreset: 'okta' });
    expect(added).toMatchObject({ status: 201, body: { id: 'okta', mappingPreset: 'okta' } });
    const stored = await waitFor('the preset to be stored', async () => {
      const r = await settingsOf('okta');
      return r.body?.origin === 'api' ? r.body : undefined;
    });
    expect(stored).toMatchObject({
      model: 'jit',
      mapping: { username: { attribute: ['preferred_username', 'login', 'username'], fallback: ['email'] }, authoritative: ['groups'] },
    });
    expect((await audit('okta'))[0]).toMatchObject({
      action: 'idp-settings.updated',
      actor: expect.stringMatching(/^admin-token:/),
      after: { mappingPreset: 'okta' },
    });
    const sim = await call('provisioning', 'POST', '/api/v1/idps/okta/simulate', {
      subject: '00u1abc',
      protocol: 'oidc',
      attributes: { email: ['Ann@Corp.Example'], email_verified: ['true'], given_name: ['Ann'], family_name: ['Lee'], groups: ['Everyone'] },
    });
    expect(sim.body).toMatchObject({ outcome: 'created', identity: { username: 'ann@corp.example', displayName: 'Ann Lee', groups: ['Everyone'] } });

    const bad = await call('auth', 'POST', '/api/v1/idps', { id: 'odd', name: 'Odd', metadataXml, mappingPreset: 'ping' });
    expect(bad).toMatchObject({ status: 400, body: { errors: [expect.objectContaining({ field: 'mappingPreset' })] } });
    expect((await call('auth', 'GET', '/api/v1/idps/odd')).status).toBe(404);
  });

  it('simulates a pasted SAML assertion keyed as the IdP keys logins (auth answers how)', async () => {
    const assertion = (nameId: string) =>
      `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"><saml:Subject>${nameId}</saml:Subject><saml:AttributeStatement><saml:Attribute Name="preferred_username"><saml:AttributeValue>pia</saml:AttributeValue></saml:Attribute><saml:Attribute Name="groups"><saml:AttributeValue>/staff</saml:AttributeValue></saml:Attribute></saml:AttributeStatement></saml:Assertion>`;
    const sim = await call('provisioning', 'POST', '/api/v1/idps/regex/simulate', { assertionXml: assertion('<saml:NameID>pia-id</saml:NameID>') });
    expect(sim).toMatchObject({ status: 200, body: { outcome: 'created', identity: { username: 'pia', groups: ['staff'] } } });
    const transient = await call('provisioning', 'POST', '/api/v1/idps/regex/simulate', {
      assertionXml: assertion('<saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:transient">_t1</saml:NameID>'),
    });
    expect(transient).toMatchObject({ status: 200, body: { outcome: 'rejected', code: 'name_id_transient' } });
    expect(await call('provisioning', 'POST', '/api/v1/idps/regex/simulate', { assertionXml: '<x/>' })).toMatchObject({
      status: 400,
      body: { detail: expect.stringContaining('no SAML 2.0 Assertion') },
    });
  });

  it('applies a preset to an IdP added without one: only the mapping changes, audited naming the preset; presets are listed with their mappings', async () => {
    await createIdp('entra');
    expect(
      await call('provisioning', 'PATCH', '/api/v1/idps/entra/provisioning', { model: 'manual', grantLocalGroups: ['staff'] }, 'application/merge-patch+json'),
    ).toMatchObject({ status: 200 });
    const listed = await call('provisioning', 'GET', '/api/v1/mapping-presets');
    expect(listed.body.items.map((p: { name: string }) => p.name)).toEqual(['keycloak', 'entra-adfs', 'okta', 'google', 'generic-oidc']);
    const entra = listed.body.items.find((p: { name: string }) => p.name === 'entra-adfs').mapping;

    const applied = await call('provisioning', 'POST', '/api/v1/idps/entra/provisioning/mapping-preset', { preset: 'entra-adfs' });
    expect(applied).toMatchObject({ status: 200, body: { origin: 'api', model: 'manual', grantLocalGroups: ['staff'], mapping: entra } });
    expect(await settingsOf('entra')).toMatchObject({ body: { model: 'manual', mapping: entra } });
    expect((await audit('entra'))[0]).toMatchObject({
      action: 'idp-settings.updated',
      actor: expect.stringMatching(/^admin-token:/),
      before: { model: 'manual' },
      after: { model: 'manual', mappingPreset: 'entra-adfs', mapping: entra },
    });
    // Entra's claim URIs now give names and groups in the simulator.
    const sim = await call('provisioning', 'POST', '/api/v1/idps/entra/simulate', {
      subject: 'x1',
      attributes: {
        'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn': ['ann@corp.example'],
        'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname': ['Ann'],
        'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname': ['Lee'],
        'http://schemas.microsoft.com/ws/2008/06/identity/claims/groups': ['g-1'],
      },
    });
    expect(sim.body).toMatchObject({ identity: { username: 'ann@corp.example', displayName: 'Ann Lee', groups: ['g-1'] } });

    // A preset no family has, or anything beside it, is a 400 naming the field; nothing changes.
    for (const body of [{ preset: 'ping' }, { preset: 'okta', model: 'jit' }, {}]) {
      expect(await call('provisioning', 'POST', '/api/v1/idps/entra/provisioning/mapping-preset', body)).toMatchObject({ status: 400 });
    }
    expect((await settingsOf('entra')).body.mapping).toEqual(entra);
  });

  it('forgets an IdP deleted in auth: its settings go, audited with the actor who deleted it; the simulator then says it is unknown', async () => {
    expect((await call('provisioning', 'PUT', '/api/v1/idps/gone/provisioning', whole)).status).toBe(200);
    expect((await call('auth', 'DELETE', '/api/v1/idps/gone')).status).toBe(204);
    const [deletion] = (await call('auth', 'GET', '/api/v1/audit?targetType=idp&targetId=gone&action=idp.deleted')).body.items;
    await waitFor('provisioning to forget the deleted IdP', async () => (await settingsOf('gone')).status === 404, 10_000);
    expect((await audit('gone'))[0]).toMatchObject({ action: 'idp-settings.deleted', actor: deletion.actor, before: { model: 'jit', mapping }, after: null });
    expect(await call('provisioning', 'POST', '/api/v1/idps/gone/simulate', { subject: 'gina', attributes: {} })).toMatchObject({
      status: 404,
      body: { detail: expect.stringContaining('unknown identity provider') },
    });

    // An event from before the deletion, arriving late (a redelivery), does not bring the IdP back.
    const nc = await connect({ servers: nats.url });
    try {
      const stale = createEvent(
        IdpUpdatedV1,
        'auth',
        { idp: 'gone', name: 'gone', protocol: 'saml', enabled: true, actor: 'test' },
        { occurredAt: new Date(Date.now() - 60_000) },
      );
      await nc.jetstream().publish(IdpUpdatedV1.subject, JSONCodec().encode(stale), { msgID: stale.id });
      const jsm = await nc.jetstreamManager();
      await waitFor('provisioning to take the late event', async () => {
        const info = await jsm.consumers.info(STREAMS.IDPS.name, 'provisioning__idp-updated');
        return info.num_pending === 0 && info.num_ack_pending === 0 && info.delivered.stream_seq > 0;
      });
    } finally {
      await nc.close();
    }
    expect((await settingsOf('gone')).status).toBe(404);
    expect((await call('provisioning', 'PUT', '/api/v1/idps/gone/provisioning', whole)).status).toBe(404);

    // The same id again is a new IdP: the defaults, not what the old one had.
    await createIdp('gone');
    expect(await settingsOf('gone')).toMatchObject({ status: 200, body: { origin: 'environment' } });
  });

  it('removes settings an IdP had before its deletion even when the deletion arrives after the IdP was created again', async () => {
    expect((await call('provisioning', 'PUT', '/api/v1/idps/again/provisioning', whole)).status).toBe(200);
    // auth deleted "again" (t1) and created it again (t2); provisioning hears the creation first,
    // as it may when it catches up after a restart (the three consumers run side by side).
    const t1 = new Date(Date.now() + 1_000);
    const t2 = new Date(t1.getTime() + 1_000);
    const nc = await connect({ servers: nats.url });
    try {
      const js = nc.jetstream();
      const jsm = await nc.jetstreamManager();
      const taken = (durable: string) => async () => {
        const info = await jsm.consumers.info(STREAMS.IDPS.name, durable);
        return info.num_pending === 0 && info.num_ack_pending === 0 && info.delivered.stream_seq > 0;
      };
      const created = createEvent(IdpCreatedV1, 'auth', { idp: 'again', name: 'again', protocol: 'saml', enabled: true, actor: 'test' }, { occurredAt: t2 });
      await js.publish(IdpCreatedV1.subject, JSONCodec().encode(created), { msgID: created.id });
      await waitFor('provisioning to take the creation', taken('provisioning__idp-created'));
      const deleted = createEvent(IdpDeletedV1, 'auth', { idp: 'again', actor: 'admin-token:deleter' }, { occurredAt: t1 });
      await js.publish(IdpDeletedV1.subject, JSONCodec().encode(deleted), { msgID: deleted.id });
      await waitFor('provisioning to take the deletion', taken('provisioning__idp-deleted'));
    } finally {
      await nc.close();
    }
    // The IdP exists (its creation happened last), with the defaults, not the deleted IdP's settings.
    expect(await settingsOf('again')).toMatchObject({ status: 200, body: { origin: 'environment', grantLocalGroups: [], claimLocalUsers: false } });
    expect((await audit('again'))[0]).toMatchObject({ action: 'idp-settings.deleted', actor: 'admin-token:deleter', after: null });
  });

  it('refuses a regex that needs backtracking when saved, naming the field; the others run in linear time', async () => {
    const withRule = (match: string) => ({
      ...whole,
      model: 'jit',
      mapping: { ...mapping, groups: { ...mapping.groups, rules: [{ match, action: 'drop' }] } },
    });
    for (const [pattern, field] of [
      ['^(a)\\1$', 'mapping.groups.rules.0.match'],
      ['^(?!admin).*$', 'mapping.groups.rules.0.match'],
    ]) {
      const res = await call('provisioning', 'PUT', '/api/v1/idps/regex/provisioning', withRule(pattern));
      expect(res).toMatchObject({ status: 400, body: { errors: [expect.objectContaining({ field })] } });
    }
    const replace = await call(
      'provisioning',
      'PATCH',
      '/api/v1/idps/regex/provisioning',
      { mapping: { ...mapping, username: { source: 'subject', lowercase: true, replace: { pattern: '(?<=x)y', replacement: '' } } } },
      'application/merge-patch+json',
    );
    expect(replace).toMatchObject({ status: 400, body: { errors: [expect.objectContaining({ field: 'mapping.username.replace.pattern' })] } });
    expect((await settingsOf('regex')).body.origin).toBe('environment');

    // ^(a+)+$ takes about a second at 28 characters with a backtracking engine, doubling with each one more.
    expect((await call('provisioning', 'PUT', '/api/v1/idps/regex/provisioning', withRule('^(a+)+$'))).status).toBe(200);
    const started = Date.now();
    const sim = await call('provisioning', 'POST', '/api/v1/idps/regex/simulate', { subject: 'ivy', attributes: { memberOf: [`${'a'.repeat(30)}!`, 'aaaa'] } });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(sim).toMatchObject({ status: 200, body: { outcome: 'created', identity: { groups: [`${'a'.repeat(30)}!`] } } });
  });
});
