import { inflateRawSync } from 'node:zlib';
import { Client } from 'pg';
import { hashPassword } from '@bridgekeeper/platform';
import { generateSigningKeyPair } from '@bridgekeeper/saml';
import { buildSignedResponse, createTestDatabase, freePort, startNats, TestDatabase, TestIdpKeys, TestNats, toBase64 } from '@bridgekeeper/testing';
import { createAdminToken, Stack } from './support/stack';

const BREAK_GLASS_PASSWORD = 'only-when-the-idp-is-down';

/**
 * An IdP changes only what it owns, through real logins: SAML responses this test signs as two
 * IdPs (`test`, `test2`), posted to the ACS of the whole stack (auth, provisioning, directory as
 * processes over real NATS and PostgreSQL). A local group, another IdP's group, a local account and
 * a protected one are refused unless an admin allowed it (protected: never), and the login trace
 * says what was refused.
 */
describe('an IdP changes only what it owns', () => {
  const ISSUER = 'https://idp.example.com/realms/test';
  let nats: TestNats;
  let pg: TestDatabase;
  let stack: Stack;
  let sql: Client;
  let keys: TestIdpKeys;
  let token: string;
  let publicBase: string;
  const rows = async (query: string, params: unknown[] = []) => (await sql.query(query, params)).rows;

  const api = async (service: 'auth' | 'directory' | 'provisioning', method: string, path: string, body?: unknown) => {
    const res = await fetch(`${stack.services[service].url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  const settings = (idp: string, body: Record<string, unknown>) => api('provisioning', 'PATCH', `/api/v1/idps/${idp}/provisioning`, { model: 'jit', ...body });

  /**
   * One SP-initiated login through the ACS: started at /login (its cookies carried along, as a
   * browser would), answered with a response signed as the IdP. The trace id, the session's
   * user and groups (when signed in).
   */
  async function login(idp: string, nameId: string, attributes: Record<string, string[]> = {}) {
    const start = await fetch(`${stack.services.auth.url}/login?idp=${idp}&returnTo=/session`, { redirect: 'manual' });
    expect(start.status).toBe(302);
    const cookies = start.headers.getSetCookie().map((c) => c.split(';')[0]);
    const to = new URL(start.headers.get('location')!);
    const request = inflateRawSync(Buffer.from(to.searchParams.get('SAMLRequest')!, 'base64')).toString('utf8');
    const relayState = to.searchParams.get('RelayState')!;
    const [{ trace_id: traceId }] = await rows('SELECT trace_id FROM auth.login_states WHERE relay_state = $1', [relayState]);
    const response = buildSignedResponse({
      keys,
      idpEntityId: ISSUER,
      spEntityId: `${publicBase}/saml/${idp}/metadata`,
      acsUrl: `${publicBase}/saml/${idp}/acs`,
      inResponseTo: /ID="([^"]+)"/.exec(request)![1],
      nameId,
      attributes,
      signAssertion: true,
    });
    const res = await fetch(`${stack.services.auth.url}/saml/${idp}/acs`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookies.length ? { cookie: cookies.join('; ') } : {}) },
      body: new URLSearchParams({ SAMLResponse: toBase64(response), RelayState: relayState }),
    });
    const session = res.status === 302 ? await sessionOf(res.headers.get('set-cookie')!) : undefined;
    const [trace] = await rows('SELECT status, reason_code, reason FROM auth.login_traces WHERE id = $1', [traceId]);
    const steps = await rows('SELECT step, detail FROM auth.login_trace_steps WHERE trace_id = $1 ORDER BY at, id', [traceId]);
    return { status: res.status, trace, steps, session };
  }

  async function sessionOf(setCookie: string): Promise<{ user: { username: string }; groups: string[] }> {
    const res = await fetch(`${stack.services.auth.url}/session`, { headers: { cookie: setCookie.split(';')[0] } });
    expect(res.status).toBe(200);
    return (await res.json()) as { user: { username: string }; groups: string[] };
  }

  const breakGlass = (password = BREAK_GLASS_PASSWORD) =>
    fetch(`${stack.services.auth.url}/break-glass`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'root-admin', password }),
    });
  const directoryUser = async (username: string) =>
    (await rows('SELECT source, external_id, protected FROM directory.users WHERE username_lower = $1', [username]))[0];
  const groupsOf = async (username: string) =>
    (
      await rows(
        'SELECT g.name FROM directory.groups g JOIN directory.memberships m ON m.group_id = g.id JOIN directory.users u ON u.id = m.user_id WHERE u.username_lower = $1 ORDER BY g.name_lower',
        [username],
      )
    ).map((r) => r.name);

  beforeAll(async () => {
    nats = await startNats();
    pg = await createTestDatabase();
    const ports = { auth: await freePort(), directory: await freePort(), provisioning: await freePort() };
    stack = new Stack({
      natsUrl: nats.url,
      databaseUrl: pg.url,
      ports,
      extraEnv: { auth: { AUTH_BREAK_GLASS_USERNAME: 'root-admin', AUTH_BREAK_GLASS_PASSWORD_HASH: hashPassword(BREAK_GLASS_PASSWORD) } },
    });
    await stack.start();
    publicBase = `http://localhost:${ports.auth}`;
    keys = await generateSigningKeyPair('test idp');
    token = createAdminToken({ DATABASE_URL: pg.url, DATA_DIR: stack.dataDir });
    for (const id of ['test', 'test2']) {
      const created = await api('auth', 'POST', '/api/v1/idps', {
        id,
        name: id,
        manual: { entityId: ISSUER, ssoUrl: `${ISSUER}/protocol/saml`, certificates: [keys.certificatePem] },
      });
      expect(created.status).toBe(201);
    }
    sql = new Client({ connectionString: pg.url });
    await sql.connect();
    // What an admin made by hand.
    expect((await api('directory', 'POST', '/api/v1/groups', { name: 'jira-admins' })).status).toBe(201);
    expect((await api('directory', 'POST', '/api/v1/groups', { name: 'everyone' })).status).toBe(201);
    expect((await api('directory', 'POST', '/api/v1/users', { username: 'lou', email: 'lou@example.com' })).status).toBe(201);
  });

  afterAll(async () => {
    if (process.env.DEBUG_STACK) for (const s of Object.values(stack.services)) console.log(s.name, s.output.slice(-4000));
    await sql?.end();
    await stack?.stop();
    await pg?.drop();
    await nats?.stop();
  });

  it('does not join a user to a local group or to another IdP’s group; the login goes on and its trace says what was refused', async () => {
    expect(await login('test2', 'olga', { groups: ['/test2-team'] })).toMatchObject({ status: 302, session: { groups: ['test2-team'] } });
    const ann = await login('test', 'ann', { email: ['ann@example.com'], groups: ['/jira-admins', '/test2-team', '/staff'] });
    expect(ann).toMatchObject({ status: 302, trace: { status: 'succeeded' }, session: { user: { username: 'ann' }, groups: ['staff'] } });
    expect(await groupsOf('ann')).toEqual(['staff']);
    const refused = ann.steps.find((s) => s.step === 'provisioning.refused');
    expect(refused?.detail).toEqual(expect.stringContaining('jira-admins'));
    expect(refused?.detail).toEqual(expect.stringContaining('test2-team'));
    // The repeat login (the directory's quick path) says the same.
    const again = await login('test', 'ann', { email: ['ann@example.com'], groups: ['/jira-admins', '/test2-team', '/staff'] });
    expect(again).toMatchObject({ status: 302, session: { groups: ['staff'] } });
    expect(again.steps.find((s) => s.step === 'provisioning.refused')?.detail).toEqual(refused?.detail);
  });

  it('joins the local groups an admin allowed for this IdP (and its defaultForAll groups), never another IdP’s; the simulator shows the same', async () => {
    expect((await settings('test', { grantLocalGroups: ['jira-admins', 'test2-team'] })).status).toBe(200);
    const ann = await login('test', 'ann', { groups: ['/jira-admins', '/test2-team', '/staff'] });
    expect(ann).toMatchObject({ status: 302, session: { groups: ['jira-admins', 'staff'] } });
    expect(ann.steps.find((s) => s.step === 'provisioning.refused')?.detail).toEqual(expect.stringContaining('test2-team'));

    // defaultForAll is the admin's own grant: a local group named there is joined; another IdP's is not.
    const mapping = {
      username: { source: 'subject', lowercase: true },
      email: ['email'],
      firstName: [],
      lastName: [],
      displayName: [],
      groups: { attribute: ['groups'], naming: 'path', defaultForAll: ['everyone', 'test2-team'] },
      properties: {},
    };
    expect((await settings('test', { mapping, grantLocalGroups: [] })).status).toBe(200);
    const bo = await login('test', 'bo', { groups: ['/staff'] });
    expect(bo).toMatchObject({ status: 302, session: { groups: ['everyone', 'staff'] } });
    expect(bo.steps.find((s) => s.step === 'provisioning.refused')?.detail).toEqual(expect.stringContaining('test2-team'));

    const sim = await api('provisioning', 'POST', '/api/v1/idps/test/simulate', { subject: 'cy', attributes: { groups: ['/staff', '/jira-admins'] } });
    expect(sim.body).toMatchObject({
      outcome: 'created',
      directory: {
        groups: ['everyone', 'staff'],
        notices: expect.arrayContaining([
          expect.objectContaining({ code: 'group_not_owned', name: 'jira-admins' }),
          expect.objectContaining({ code: 'group_not_owned', name: 'test2-team' }),
        ]),
      },
    });
  });

  it('does not claim a local account unless the admin allowed it for this IdP', async () => {
    const refused = await login('test', 'lou', { email: ['lou@example.com'] });
    expect(refused).toMatchObject({ status: 403, trace: { status: 'failed', reason_code: 'account_not_owned' } });
    expect(await directoryUser('lou')).toEqual({ source: 'local', external_id: null, protected: false });
    const sim = await api('provisioning', 'POST', '/api/v1/idps/test/simulate', { subject: 'lou', attributes: {} });
    expect(sim.body).toMatchObject({ outcome: 'rejected', directory: { status: 'error', code: 'account_not_owned' } });

    expect((await settings('test', { claimLocalUsers: true })).status).toBe(200);
    expect(await login('test', 'lou', { email: ['lou@example.com'] })).toMatchObject({ status: 302, session: { user: { username: 'lou' } } });
    expect(await directoryUser('lou')).toEqual({ source: 'test', external_id: 'lou', protected: false });
  });

  it('never claims a protected account, even when allowed; break-glass signs in only a protected local account', async () => {
    expect((await api('directory', 'POST', '/api/v1/users', { username: 'root-admin' })).status).toBe(201);
    // Not protected: break-glass refuses it, and its audit entry says why.
    expect((await breakGlass()).status).toBe(403);
    const audit = await api('auth', 'GET', '/api/v1/audit?targetType=user&targetId=root-admin');
    expect(audit.body.items[0]).toMatchObject({ action: 'break-glass.refused', after: { detail: expect.stringContaining('protected') } });

    const [{ id }] = await rows(`SELECT id FROM directory.users WHERE username_lower = 'root-admin'`);
    expect((await api('directory', 'PATCH', `/api/v1/users/${id}`, { protected: true })).body).toMatchObject({ protected: true });
    expect((await breakGlass()).status).toBe(303);

    expect((await settings('test', { claimLocalUsers: true })).status).toBe(200);
    const login1 = await login('test', 'root-admin', {});
    expect(login1).toMatchObject({ status: 403, trace: { status: 'failed', reason_code: 'account_not_owned', reason: expect.stringContaining('protected') } });
    expect(await directoryUser('root-admin')).toEqual({ source: 'local', external_id: null, protected: true });
    expect((await breakGlass()).status).toBe(303);
  });

  it('Manual: signs in users an admin created for the IdP, a local account only when allowed, never a protected one', async () => {
    expect((await settings('test2', { model: 'manual' })).status).toBe(200);
    expect((await api('directory', 'POST', '/api/v1/users', { username: 'mia', source: 'test2' })).status).toBe(201);
    expect((await api('directory', 'POST', '/api/v1/users', { username: 'nat' })).status).toBe(201);
    expect(await login('test2', 'mia')).toMatchObject({ status: 302, session: { user: { username: 'mia' } } });
    expect(await login('test2', 'nat')).toMatchObject({ status: 403, trace: { reason_code: 'account_not_owned' } });
    const sim = await api('provisioning', 'POST', '/api/v1/idps/test2/simulate', { subject: 'nat', attributes: {} });
    expect(sim.body).toMatchObject({ model: 'manual', outcome: 'rejected', directory: { status: 'refused', code: 'account_not_owned' } });

    expect((await settings('test2', { model: 'manual', claimLocalUsers: true })).status).toBe(200);
    expect(await login('test2', 'nat')).toMatchObject({ status: 302, session: { user: { username: 'nat' } } });
    expect(await login('test2', 'root-admin')).toMatchObject({ status: 403, trace: { reason_code: 'account_not_owned' } });
    // Another IdP's user: never.
    expect(await login('test2', 'ann')).toMatchObject({ status: 403, trace: { reason_code: 'account_not_owned' } });
  });
});
