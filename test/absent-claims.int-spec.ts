import { connect, JSONCodec, NatsConnection } from 'nats';
import { Client } from 'pg';
import { createEvent, Envelope, IdpCreatedV1, UserAuthenticatedV1, UserProvisionedV1, UserRejectedV1 } from '@bridgekeeper/contracts';
import { createTestDatabase, freePort, startNats, TestDatabase, TestNats, waitFor } from '@bridgekeeper/testing';
import { createAdminToken, Stack } from './support/stack';

/**
 * Issue 27, the mapping part, with provisioning and directory as real processes on a real
 * nats-server and PostgreSQL: an absent claim is not an empty value (a login with only `sub`, or
 * no SAML attributes, keeps the profile, the username and the managed groups, and says so in the
 * event the trace is written from); without preferred_username a new user is named by the email,
 * never by an opaque sub; an email another account holds is said, not silently dropped; an IdP
 * added with a mapping preset is provisioned with it.
 */
describe('absent claims, fallback usernames, taken emails and mapping presets', () => {
  let nats: TestNats;
  let pg: TestDatabase;
  let stack: Stack;
  let nc: NatsConnection;
  let sql: Client;
  let token: string;
  const outcomes = new Map<string, Envelope<any>>();
  const codec = JSONCodec<Envelope<{ authEventId: string }>>();

  type Login = { idp?: string; protocol?: 'saml' | 'oidc'; subject: string; subjectFormat?: string; attributes?: Record<string, string[]> };
  const login = async ({ idp = 'op', protocol = 'oidc', subject, subjectFormat, attributes = {} }: Login) => {
    const event = createEvent(UserAuthenticatedV1, 'test', {
      idp,
      protocol,
      subject,
      ...(subjectFormat ? { subjectFormat } : {}),
      attributes,
      traceId: crypto.randomUUID(),
    });
    await nc.jetstream().publish(UserAuthenticatedV1.subject, JSONCodec().encode(event), { msgID: event.id });
    return waitFor(`outcome of ${event.id}`, async () => outcomes.get(event.id), 15_000);
  };
  const userBySubject = async (source: string, externalId: string) =>
    (await sql.query('SELECT * FROM directory.users WHERE source = $1 AND external_id = $2', [source, externalId])).rows[0];
  const groupsOf = async (userId: string) =>
    (
      await sql.query('SELECT g.name FROM directory.groups g JOIN directory.memberships m ON m.group_id = g.id WHERE m.user_id = $1 ORDER BY g.name', [userId])
    ).rows.map((r) => r.name);
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${stack.services.provisioning.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const announce = async (idp: string, extra: Record<string, unknown> = {}) => {
    const created = createEvent(IdpCreatedV1, 'auth', { idp, name: idp, protocol: 'oidc', enabled: true, actor: 'admin-token:test', ...extra });
    await nc.jetstream().publish(IdpCreatedV1.subject, JSONCodec().encode(created), { msgID: created.id });
  };

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
    token = createAdminToken({ DATABASE_URL: pg.url, DATA_DIR: stack.dataDir });
  });

  afterAll(async () => {
    if (process.env.DEBUG_STACK) for (const s of Object.values(stack.services)) console.log(s.name, s.output.slice(-4000));
    await sql?.end();
    await nc?.close();
    await stack?.stop();
    await pg?.drop();
    await nats?.stop();
  });

  const full = {
    preferred_username: ['Alice'],
    email: ['alice@example.com'],
    given_name: ['Alice'],
    family_name: ['Liddell'],
    groups: ['/staff', '/engineering'],
  };

  it('an ID token with only sub (userinfo off) keeps the username and profile, says what was absent, and leaves no managed group (groups are authoritative: revocation wins)', async () => {
    expect(await login({ subject: 'sub-alice', attributes: full })).toMatchObject({
      data: { created: true, user: { username: 'alice', email: 'alice@example.com', displayName: 'Alice Liddell' }, groups: ['engineering', 'staff'] },
    });
    const before = await userBySubject('op', 'sub-alice');
    const audit = (await sql.query('SELECT count(*)::int AS n FROM directory.audit_log')).rows[0].n;

    const bare = await login({ subject: 'sub-alice' });
    expect(bare).toMatchObject({ data: { user: { username: 'alice', email: 'alice@example.com', displayName: 'Alice Liddell' }, groups: [], changed: true } });
    expect(bare.data.notices.filter((n: { code: string }) => n.code === 'claim_absent').map((n: { name: string }) => n.name)).toEqual([
      'username',
      'email',
      'displayName',
    ]);
    const after = await userBySubject('op', 'sub-alice');
    expect(after).toMatchObject({ username: before.username, email: before.email, display_name: before.display_name });
    expect(await groupsOf(after.id)).toEqual([]);
    // Only the two memberships were written: the profile was kept as it was.
    expect((await sql.query(`SELECT count(*)::int AS n FROM directory.audit_log`)).rows[0].n).toBe(audit + 2);

    // The next full login is applied as usual (a real change is still a change).
    expect(await login({ subject: 'sub-alice', attributes: { ...full, family_name: ['Cooper'], groups: ['/staff'] } })).toMatchObject({
      data: { user: { username: 'alice', displayName: 'Alice Cooper' }, groups: ['staff'], changed: true },
    });
  });

  it('a SAML assertion with a persistent NameID and no attributes keeps the known user as they are, but not their groups', async () => {
    const persistent = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent';
    await login({
      idp: 'samlidp',
      protocol: 'saml',
      subject: '_a1b2c3',
      subjectFormat: persistent,
      attributes: { preferred_username: ['bob'], email: ['bob@example.com'], groups: ['/saml-team'] },
    });
    expect(await login({ idp: 'samlidp', protocol: 'saml', subject: '_a1b2c3', subjectFormat: persistent })).toMatchObject({
      data: { user: { username: 'bob', email: 'bob@example.com' }, groups: [] },
    });
  });

  it('names a new user by the verified email when there is no preferred_username, never by the opaque sub', async () => {
    expect(
      await login({ subject: '3f1e0c5a-opaque', attributes: { email: ['Carol@Example.com'], email_verified: ['true'], name: ['Carol C'] } }),
    ).toMatchObject({ data: { created: true, user: { username: 'carol@example.com', email: 'carol@example.com' } } });
    expect((await sql.query(`SELECT count(*)::int AS n FROM directory.users WHERE username_lower = '3f1e0c5a-opaque'`)).rows[0].n).toBe(0);
  });

  it('refuses a new user whose login carries nothing to name them, saying what to send', async () => {
    const refused = await login({ subject: 'e6b1-opaque-only' });
    expect(refused).toMatchObject({ data: { code: 'no_username', reason: expect.stringContaining('userinfo') } });
    expect(await userBySubject('op', 'e6b1-opaque-only')).toBeUndefined();
  });

  it('says in the provisioning event when an email is held by another account, instead of storing null silently', async () => {
    await login({ subject: 'sub-dora', attributes: { preferred_username: ['dora'], email: ['shared@example.com'] } });
    const second = await login({ subject: 'sub-eve', attributes: { preferred_username: ['eve'], email: ['shared@example.com'] } });
    expect(second).toMatchObject({ data: { created: true, user: { username: 'eve', email: null } } });
    expect(second.data.notices).toEqual(expect.arrayContaining([{ code: 'email_taken', name: 'shared@example.com', reason: expect.stringContaining('dora') }]));
  });

  it('an IdP announced with a mapping preset gets that mapping: Entra/ADFS claim URIs give names and groups', async () => {
    await announce('entra', { mappingPreset: 'entra-adfs' });
    const settings = await waitFor('the preset to be stored', async () => {
      const r = await call('GET', '/api/v1/idps/entra/provisioning');
      return r.status === 200 && r.body.origin === 'api' ? r.body : undefined;
    });
    expect(settings.mapping.email).toContain('http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress');
    const claims = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims';
    const answer = await login({
      idp: 'entra',
      protocol: 'saml',
      subject: 'Zk9w-persistent',
      subjectFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
      attributes: {
        [`${claims}/name`]: ['Fay@Corp.Example'],
        [`${claims}/emailaddress`]: ['fay@corp.example'],
        [`${claims}/givenname`]: ['Fay'],
        [`${claims}/surname`]: ['Lee'],
        'http://schemas.xmlsoap.org/claims/Group': ['Sales'],
      },
    });
    expect(answer).toMatchObject({ data: { user: { username: 'fay@corp.example', email: 'fay@corp.example', displayName: 'Fay Lee' }, groups: ['Sales'] } });
    const audit = await call('GET', '/api/v1/audit?targetType=idp-settings&targetId=entra');
    expect(audit.body.items).toMatchObject([{ action: 'idp-settings.updated', actor: 'admin-token:test' }]);
  });

  it('the simulator shows a login with only sub as a login that keeps the profile (and cannot create a user)', async () => {
    await login({ subject: 'sub-alice', attributes: { preferred_username: ['alice'], email: ['alice@example.com'], groups: ['/staff'] } });
    await announce('op');
    await waitFor('provisioning to know op', async () => (await call('GET', '/api/v1/idps/op/provisioning')).status === 200);
    const sim = await call('POST', '/api/v1/idps/op/simulate', { subject: 'sub-alice', protocol: 'oidc', attributes: {} });
    // The profile is kept; the groups (authoritative) would go.
    expect(sim.body).toMatchObject({
      outcome: 'updated',
      directory: { user: { username: 'alice' } },
      absent: expect.arrayContaining([expect.objectContaining({ code: 'claim_absent', name: 'email' })]),
    });
    const unknown = await call('POST', '/api/v1/idps/op/simulate', { subject: 'nobody-opaque', protocol: 'oidc', attributes: {} });
    expect(unknown.body).toMatchObject({ outcome: 'rejected', code: 'no_username' });
  });

  describe('revocation and ownership (attacker review)', () => {
    const directory = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${stack.services.directory.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json().catch(() => undefined)) as any };
    };
    const known = async (idp: string) =>
      waitFor(`provisioning to know ${idp}`, async () => (await call('GET', `/api/v1/idps/${idp}/provisioning`)).status === 200);

    it('a user removed from every group at the IdP who asks for scope=openid alone keeps no managed group', async () => {
      expect(await login({ subject: 'sub-m1', attributes: { preferred_username: ['m1'], email: ['m1@x.io'], groups: ['/admins'] } })).toMatchObject({
        data: { groups: ['admins'] },
      });
      expect((await login({ subject: 'sub-m1', attributes: { email_verified: ['true'] } })).data.groups).toEqual([]);
    });

    it('every preset revokes a last group the IdP no longer sends', async () => {
      for (const [idp, preset] of [
        ['gen', 'generic-oidc'],
        ['entra2', 'entra-adfs'],
        ['goog', 'google'],
        ['okta', 'okta'],
      ] as const) {
        await announce(idp, { mappingPreset: preset });
        await waitFor(`${idp} preset`, async () => {
          const r = await call('GET', `/api/v1/idps/${idp}/provisioning`);
          return r.status === 200 && r.body.origin === 'api';
        });
        const profile = { preferred_username: [`u-${idp}`], email: [`u-${idp}@x.io`], email_verified: ['true'], name: ['U'] };
        expect(await login({ idp, subject: `sub-${idp}`, attributes: { ...profile, groups: [`/admins-${idp}`] } })).toMatchObject({
          data: { groups: [`admins-${idp}`] },
        });
        expect((await login({ idp, subject: `sub-${idp}`, attributes: profile })).data.groups).toEqual([]);
      }
    });

    it('a username from the email fallback never links an existing account (an unverified email names nobody at all)', async () => {
      await announce('op3');
      await known('op3');
      const boss = await directory('POST', '/api/v1/users', { username: 'boss@corp.example', source: 'op3' });
      expect(boss.status).toBe(201);
      const unverified = await login({
        idp: 'op3',
        subject: 'sub-mallory',
        attributes: { email: ['boss@corp.example'], email_verified: ['false'], name: ['Mallory'] },
      });
      expect(unverified).toMatchObject({ data: { code: 'no_username' } });
      const verified = await login({
        idp: 'op3',
        subject: 'sub-mallory',
        attributes: { email: ['boss@corp.example'], email_verified: ['true'], name: ['Mallory'] },
      });
      expect(verified).toMatchObject({ data: { code: 'account_not_owned' } });
      expect((await directory('GET', `/api/v1/users/${boss.body.id}`)).body).toMatchObject({ externalId: null });
    });
  });
});
