import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, JSONCodec, NatsConnection } from 'nats';
import { Client } from 'pg';
import { createEvent, Envelope, IdpCreatedV1, UserAuthenticatedV1, UserProvisionedV1, UserRejectedV1 } from '@bridgekeeper/contracts';
import { createTestDatabase, freePort, startNats, TestDatabase, TestNats, waitFor } from '@bridgekeeper/testing';
import { createAdminToken, ServiceProcess, Stack } from './support/stack';

/**
 * Provisioning and directory as real processes on a real nats-server and PostgreSQL: a
 * user.authenticated event becomes a directory user and a user.provisioned answer, also when
 * provisioning was down when the login happened.
 */
describe('JIT provisioning across services', () => {
  let nats: TestNats;
  let pg: TestDatabase;
  let stack: Stack;
  let nc: NatsConnection;
  let sql: Client;
  const outcomes = new Map<string, Envelope<unknown>>();
  const codec = JSONCodec<Envelope<{ authEventId: string }>>();

  const login = (subject: string, attributes: Record<string, string[]>) =>
    createEvent(UserAuthenticatedV1, 'test', { idp: 'keycloak', protocol: 'saml', subject, attributes, traceId: crypto.randomUUID() });
  const publish = async (event: ReturnType<typeof login>) => {
    await nc.jetstream().publish(UserAuthenticatedV1.subject, JSONCodec().encode(event), { msgID: event.id });
  };
  const outcome = (id: string, timeoutMs = 15_000) => waitFor(`outcome of ${id}`, async () => outcomes.get(id), timeoutMs);
  const users = async (username: string) => (await sql.query('SELECT * FROM directory.users WHERE username_lower = $1', [username])).rows;

  beforeAll(async () => {
    nats = await startNats();
    pg = await createTestDatabase();
    stack = new Stack({
      natsUrl: nats.url,
      databaseUrl: pg.url,
      ports: { auth: await freePort(), directory: await freePort(), provisioning: await freePort() },
    });
    await stack.start('directory', 'provisioning');
    nc = await connect({ servers: nats.url });
    for (const subject of [UserProvisionedV1.subject, UserRejectedV1.subject]) {
      nc.subscribe(subject, {
        callback: (_e, m) => {
          const e = codec.decode(m.data);
          outcomes.set(e.data.authEventId, e);
        },
      });
    }
    sql = new Client({ connectionString: pg.url });
    await sql.connect();
  });

  afterAll(async () => {
    if (process.env.DEBUG_STACK) for (const s of Object.values(stack.services)) console.log(s.name, s.output.slice(-4000));
    await sql?.end();
    await nc?.close();
    await stack?.stop();
    await pg?.drop();
    await nats?.stop();
  });

  it('creates the user and groups on first login and answers user.provisioned', async () => {
    const event = login('alice', { email: ['alice@example.com'], firstName: ['Alice'], lastName: ['Liddell'], groups: ['/engineering/backend', '/staff'] });
    await publish(event);
    const answer = await outcome(event.id);
    expect(answer).toMatchObject({
      source: 'provisioning',
      data: {
        traceId: event.data.traceId,
        created: true,
        groups: ['engineering/backend', 'staff'],
        user: { username: 'alice', email: 'alice@example.com', displayName: 'Alice Liddell' },
      },
    });
    expect(await users('alice')).toHaveLength(1);
  });

  it("shows a login's provisioning outcome on provisioning's admin API, to token holders only", async () => {
    const event = login('frank', { email: ['frank@example.com'] });
    await publish(event);
    await outcome(event.id);
    const url = `${stack.services.provisioning.url}/api/v1/events/${event.id}`;
    expect((await fetch(url)).status).toBe(401);
    const token = createAdminToken({ DATABASE_URL: pg.url, DATA_DIR: stack.dataDir }, 'read-only');
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ eventId: event.id, subject: 'user.authenticated', outcome: 'provisioned' });
  });

  it('updates the same user on the next login, and a redelivered login changes nothing twice', async () => {
    const event = login('alice', { email: ['alice@example.com'], firstName: ['Alice'], lastName: ['Cooper'], groups: ['/staff'] });
    await publish(event);
    expect(await outcome(event.id)).toMatchObject({ data: { created: false, changed: true, groups: ['staff'], user: { displayName: 'Alice Cooper' } } });
    const auditBefore = (await sql.query('SELECT count(*)::int AS n FROM directory.audit_log')).rows[0].n;
    outcomes.delete(event.id);
    // The same event again, past JetStream's de-duplication (as a redelivery would be): no new answer id, no change.
    await nc.jetstream().publish(UserAuthenticatedV1.subject, JSONCodec().encode(event));
    await new Promise((r) => setTimeout(r, 1500));
    expect(outcomes.get(event.id)).toBeUndefined();
    expect((await sql.query('SELECT count(*)::int AS n FROM directory.audit_log')).rows[0].n).toBe(auditBefore);
    expect(await users('alice')).toHaveLength(1);
    // The last login is the login's own time.
    expect((await users('alice'))[0].last_login_at.toISOString()).toBe(event.occurredAt);

    // Changed by hand since: the redelivered login (which now differs) is still not applied again.
    await sql.query(`UPDATE directory.users SET display_name = 'Alice by hand' WHERE username_lower = 'alice'`);
    await nc.jetstream().publish(UserAuthenticatedV1.subject, JSONCodec().encode(event));
    await new Promise((r) => setTimeout(r, 1500));
    expect(outcomes.get(event.id)).toBeUndefined();
    expect(await users('alice')).toMatchObject([{ display_name: 'Alice by hand', last_login_at: new Date(event.occurredAt) }]);
    expect((await sql.query('SELECT count(*)::int AS n FROM directory.audit_log')).rows[0].n).toBe(auditBefore);
  });

  it('answers user.rejected when the mapping yields no username', async () => {
    const event = login('   ', { firstName: ['X'] });
    await publish(event);
    expect(await outcome(event.id)).toMatchObject({ data: { code: 'no_username' } });
  });

  it('answers user.rejected for a user disabled in the directory', async () => {
    const first = login('dave', { email: ['dave@example.com'] });
    await publish(first);
    await outcome(first.id);
    await sql.query('UPDATE directory.users SET active = false WHERE username_lower = $1', ['dave']);
    const second = login('dave', { email: ['dave@example.com'] });
    await publish(second);
    expect(await outcome(second.id)).toMatchObject({ data: { code: 'user_disabled' } });
  });

  it("counts and times each login's provisioning on /metrics, by model and outcome, and how long its event waited", async () => {
    const metrics = await (await fetch(`${stack.services.provisioning.url}/metrics`)).text();
    const count = (name: string, labels: string) =>
      Number(new RegExp(`^${name}_count\\{service="provisioning",${labels}\\} (\\d+)$`, 'm').exec(metrics)?.[1] ?? 0);
    // So far: alice twice, frank, the no-username login, dave twice; the redeliveries as duplicates.
    expect(count('bridgekeeper_login_provisioning_seconds', 'model="jit",outcome="provisioned"')).toBe(4);
    expect(count('bridgekeeper_login_provisioning_seconds', 'model="jit",outcome="rejected"')).toBe(2);
    expect(count('bridgekeeper_login_provisioning_seconds', 'model="jit",outcome="duplicate"')).toBe(2);
    expect(count('bridgekeeper_login_event_wait_seconds', 'model="jit"')).toBe(8);
    expect(metrics).toMatch(/^bridgekeeper_login_provisioning_seconds_bucket\{[^}]*le="0\.1"[^}]*outcome="provisioned"[^}]*\} \d+$/m);
  });

  it("runs the services on the Node that scripts/lib.sh pins, not the machine's own", async () => {
    const pinned = /^NODE_VERSION="([\d.]+)"$/m.exec(readFileSync(join(__dirname, '../scripts/lib.sh'), 'utf8'))?.[1];
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
    for (const service of [stack.services.directory, stack.services.provisioning]) {
      const metrics = await (await fetch(`${service.url}/metrics`)).text();
      expect(/^nodejs_version_info\{[^}]*\bversion="(v[^"]+)"/m.exec(metrics)?.[1]).toBe(`v${pinned}`);
    }
  });

  it('keeps logins made while provisioning is down and processes them when it returns', async () => {
    await stack.services.provisioning.stop();
    const event = login('bob', { email: ['bob@example.com'], groups: ['/staff'] });
    await publish(event);
    await new Promise((r) => setTimeout(r, 1000));
    expect(outcomes.get(event.id)).toBeUndefined();
    expect(await users('bob')).toHaveLength(0);
    await stack.services.provisioning.start();
    expect(await outcome(event.id, 30_000)).toMatchObject({ data: { created: true, user: { username: 'bob' } } });
    expect(await users('bob')).toHaveLength(1);
  });

  it('creates one user when two provisioning instances handle the same new user at once', async () => {
    const port = await freePort();
    const other = new ServiceProcess('provisioning', port, {
      NATS_URL: nats.url,
      DATABASE_URL: pg.url,
      DATA_DIR: stack.dataDir,
      PROVISIONING_PORT: String(port),
    });
    await other.start();
    try {
      const events = Array.from({ length: 6 }, () => login('erin', { email: ['erin@example.com'], groups: ['/new-team'] }));
      await Promise.all(events.map(publish));
      const answers = await Promise.all(events.map((e) => outcome(e.id)));
      expect(answers.filter((a) => (a.data as { created: boolean }).created)).toHaveLength(1);
      expect(await users('erin')).toHaveLength(1);
      expect((await sql.query(`SELECT count(*)::int AS n FROM directory.groups WHERE name = 'new-team'`)).rows[0].n).toBe(1);
    } finally {
      await other.stop();
    }
  });

  describe('provisioning settings per IdP and the mapping simulator', () => {
    let token: string;
    const call = async (method: string, path: string, body?: unknown) => {
      token ??= createAdminToken({ DATABASE_URL: pg.url, DATA_DIR: stack.dataDir });
      const res = await fetch(`${stack.services.provisioning.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as any };
    };

    // Settings exist only for IdPs auth has; auth is not running here, so its announcements are made by hand.
    beforeAll(async () => {
      for (const idp of ['corp', 'rules', 'frozen']) {
        const created = createEvent(IdpCreatedV1, 'auth', { idp, name: idp, protocol: 'saml', enabled: true, actor: 'test' });
        await nc.jetstream().publish(IdpCreatedV1.subject, JSONCodec().encode(created), { msgID: created.id });
        await waitFor(`provisioning to know ${idp}`, async () => (await call('GET', `/api/v1/idps/${idp}/provisioning`)).status === 200);
      }
    });

    it('shows the environment defaults until settings are stored', async () => {
      expect((await call('GET', '/api/v1/idps/corp/provisioning')).body).toMatchObject({
        idp: 'corp',
        model: 'jit',
        origin: 'environment',
        updateOnLogin: true,
        mapping: { username: { source: 'attribute', attribute: 'preferred_username', fallback: ['nameId', 'email'] } },
      });
    });

    it('simulates a first login: the user and groups it would create, writing nothing', async () => {
      const sim = await call('POST', '/api/v1/idps/corp/simulate', { subject: 'gina', attributes: { email: ['gina@example.com'], groups: ['/eng/backend'] } });
      expect(sim.body).toMatchObject({ model: 'jit', outcome: 'created', identity: { username: 'gina', groups: ['eng/backend'] } });
      expect(sim.body.directory.changes.map((c: { action: string }) => c.action)).toEqual(['user.created', 'group.created', 'membership.added']);
      expect(await users('gina')).toHaveLength(0);
      expect((await sql.query(`SELECT count(*)::int AS n FROM directory.groups WHERE name = 'eng/backend'`)).rows[0].n).toBe(0);
      const denied = await call('POST', '/api/v1/idps/corp/simulate', { subject: '  ', attributes: {} });
      expect(denied.body).toMatchObject({ outcome: 'rejected', code: 'no_username' });
      const fromXml = await call('POST', '/api/v1/idps/corp/simulate', {
        assertionXml:
          '<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"><saml:Subject><saml:NameID>alice</saml:NameID></saml:Subject><saml:AttributeStatement><saml:Attribute Name="groups"><saml:AttributeValue>/staff</saml:AttributeValue></saml:Attribute></saml:AttributeStatement></saml:Assertion>',
      });
      // A pasted response is keyed as the IdP's logins are, which only auth knows: without auth (not started here), a 503 that says so, never a guess.
      expect(fromXml.body).toMatchObject({ status: 503, detail: expect.stringContaining('could not ask auth how identity provider corp keys its users') });
      expect((await call('POST', '/api/v1/idps/corp/simulate', { assertionXml: '<x/>' })).body).toMatchObject({
        status: 400,
        detail: expect.stringContaining('no SAML 2.0 Assertion'),
      });
    });

    it('applies stored settings to logins: mapping, group naming, model; audited', async () => {
      const bad = await call('PATCH', '/api/v1/idps/corp/provisioning', {
        model: 'jit',
        mapping: {
          username: { source: 'subject', lowercase: true, replace: { pattern: '(', replacement: '' } },
          email: [],
          firstName: [],
          lastName: [],
          displayName: [],
          groups: { attribute: ['groups'], naming: 'leaf' },
          properties: {},
        },
      });
      expect(bad).toMatchObject({ status: 400, body: { errors: [expect.objectContaining({ field: 'mapping.username.replace.pattern' })] } });
      const mapping = {
        username: { source: 'emailLocalPart', lowercase: true },
        email: ['mail'],
        firstName: [],
        lastName: [],
        displayName: ['cn'],
        groups: { attribute: ['memberOf'], naming: 'leaf' },
        properties: { department: 'dept' },
      };
      expect((await call('PATCH', '/api/v1/idps/corp/provisioning', { model: 'jit', mapping })).body).toMatchObject({
        origin: 'api',
        mapping: { username: { source: 'emailLocalPart' } },
      });

      const event = createEvent(UserAuthenticatedV1, 'test', {
        idp: 'corp',
        protocol: 'saml',
        subject: 'f81d4fae-7dec',
        attributes: { mail: ['Hank.Hill@Corp.Example'], cn: ['Hank Hill'], memberOf: ['/sales/emea'], dept: ['Sales', 'EMEA', 'Sales'] },
        traceId: crypto.randomUUID(),
      });
      await publish(event);
      expect(await outcome(event.id)).toMatchObject({
        data: { user: { username: 'hank.hill', email: 'hank.hill@corp.example', displayName: 'Hank Hill' }, groups: ['emea'] },
      });
      const [row] = await users('hank.hill');
      // Every value of a multi-valued attribute (repeats left out), as User Sync keeps them.
      expect((await sql.query('SELECT key, value, list FROM directory.user_properties WHERE user_id = $1', [row.id])).rows).toEqual([
        { key: 'department', value: '["Sales","EMEA"]', list: true },
      ]);

      await call('PATCH', '/api/v1/idps/corp/provisioning', { model: 'manual' });
      const unknown = createEvent(UserAuthenticatedV1, 'test', {
        idp: 'corp',
        protocol: 'saml',
        subject: 'other',
        attributes: { mail: ['ivy@corp.example'] },
        traceId: crypto.randomUUID(),
      });
      await publish(unknown);
      expect(await outcome(unknown.id)).toMatchObject({ data: { code: 'not_in_directory' } });
      // The simulator finds a known user under Manual without noting a login.
      const lastLogin = async () => (await users('hank.hill'))[0].last_login_at.toISOString();
      const before = await lastLogin();
      const sim = await call('POST', '/api/v1/idps/corp/simulate', { subject: 'f81d4fae-7dec', attributes: { mail: ['Hank.Hill@Corp.Example'] } });
      expect(sim.body).toMatchObject({ model: 'manual', outcome: 'signed-in', directory: { status: 'found', user: { username: 'hank.hill' } } });
      await new Promise((r) => setTimeout(r, 300));
      expect(await lastLogin()).toBe(before);

      const audit = await call('GET', '/api/v1/audit?targetType=idp-settings&targetId=corp');
      expect(audit.body.items.map((a: { action: string }) => a.action)).toEqual(['idp-settings.updated', 'idp-settings.updated']);
    });

    it('applies group rules, default groups, createMissing and email matching', async () => {
      const mapping = {
        username: { source: 'subject', lowercase: true },
        email: ['email'],
        firstName: [],
        lastName: [],
        displayName: [],
        groups: {
          attribute: ['groups'],
          naming: 'path',
          rules: [
            { match: '^eng/(.+)$', rename: 'dev-$1' },
            { match: '^temp', action: 'drop' },
          ],
          defaultForAll: ['everyone'],
          defaultForNew: ['onboarding'],
          createMissing: true,
        },
        matchOn: ['email'],
      };
      expect((await call('PATCH', '/api/v1/idps/rules/provisioning', { model: 'jit', mapping })).status).toBe(200);
      const first = createEvent(UserAuthenticatedV1, 'test', {
        idp: 'rules',
        protocol: 'saml',
        subject: 'ida',
        attributes: { email: ['ida@example.com'], groups: ['/eng/web', '/temp-project'] },
        traceId: crypto.randomUUID(),
      });
      await publish(first);
      expect(await outcome(first.id)).toMatchObject({ data: { created: true, groups: ['dev-web', 'everyone', 'onboarding'] } });
      const again = createEvent(UserAuthenticatedV1, 'test', {
        idp: 'rules',
        protocol: 'saml',
        subject: 'ida',
        attributes: { email: ['ida@example.com'], groups: [] },
        traceId: crypto.randomUUID(),
      });
      await publish(again);
      // managed groups follow the IdP; the new-user default group is local and stays
      expect(await outcome(again.id)).toMatchObject({ data: { created: false, groups: ['everyone', 'onboarding'] } });

      // an account an admin made by hand (no IdP owns it) is linked by email where the admin lets this IdP claim local accounts, and no new group appears
      await call('PATCH', '/api/v1/idps/rules/provisioning', {
        mapping: { ...mapping, groups: { ...mapping.groups, createMissing: false, defaultForNew: [] } },
        claimLocalUsers: true,
      });
      await sql.query(
        `INSERT INTO directory.users (id, username, username_lower, email, email_lower, display_name, active, source, external_id, created_at, updated_at) VALUES ($1, 'Jo', 'jo', 'jo@example.com', 'jo@example.com', null, true, 'local', null, now(), now())`,
        [crypto.randomUUID()],
      );
      const jo = createEvent(UserAuthenticatedV1, 'test', {
        idp: 'rules',
        protocol: 'saml',
        subject: 'jo.smith',
        attributes: { email: ['JO@example.com'], groups: ['/brand-new'] },
        traceId: crypto.randomUUID(),
      });
      await publish(jo);
      expect(await outcome(jo.id)).toMatchObject({ data: { created: false, user: { username: 'jo.smith' }, groups: ['everyone'] } });
      expect((await sql.query(`SELECT count(*)::int AS n FROM directory.groups WHERE name = 'brand-new'`)).rows[0].n).toBe(0);
      expect(await users('jo')).toHaveLength(0);
    });

    it('with update-on-login off, creates on the first login and changes nothing afterwards', async () => {
      expect((await call('PATCH', '/api/v1/idps/frozen/provisioning', { model: 'jit', updateOnLogin: false })).body).toMatchObject({
        updateOnLogin: false,
        origin: 'api',
      });
      const first = createEvent(UserAuthenticatedV1, 'test', {
        idp: 'frozen',
        protocol: 'saml',
        subject: 'kim',
        attributes: { email: ['kim@example.com'], groups: ['/a'] },
        traceId: crypto.randomUUID(),
      });
      await publish(first);
      expect(await outcome(first.id)).toMatchObject({ data: { created: true, groups: ['a'] } });
      const second = createEvent(UserAuthenticatedV1, 'test', {
        idp: 'frozen',
        protocol: 'saml',
        subject: 'kim',
        attributes: { email: ['kim.new@example.com'], groups: ['/b'] },
        traceId: crypto.randomUUID(),
      });
      await publish(second);
      expect(await outcome(second.id)).toMatchObject({ data: { created: false, changed: false, user: { email: 'kim@example.com' }, groups: ['a'] } });
    });
  });
});
