import { inflateRawSync } from 'node:zlib';
import { Client } from 'pg';
import { generateSigningKeyPair } from '@bridgekeeper/saml';
import {
  buildSignedResponse,
  createTestDatabase,
  freePort,
  startNats,
  TestBrowser,
  TestDatabase,
  TestIdpKeys,
  TestNats,
  toBase64,
} from '@bridgekeeper/testing';
import { createAdminToken, Stack } from './support/stack';

/**
 * The assertion consumer service with responses this test signs as the IdP (an IdP configured by
 * hand with the test's certificate), on the whole stack over real NATS and PostgreSQL: what a
 * login writes, and that a response works once — never again, neither with its own RelayState,
 * nor another login's, nor as a new response reusing its assertion.
 */
describe('SAML assertion consumer service', () => {
  const IDP = 'https://idp.example.com/realms/test';
  let nats: TestNats;
  let pg: TestDatabase;
  let stack: Stack;
  let sql: Client;
  let keys: TestIdpKeys;
  let base: string;
  let publicBase: string;
  const rows = async (query: string, params: unknown[] = []) => (await sql.query(query, params)).rows;

  beforeAll(async () => {
    nats = await startNats();
    pg = await createTestDatabase();
    const ports = { auth: await freePort(), directory: await freePort(), provisioning: await freePort() };
    stack = new Stack({ natsUrl: nats.url, databaseUrl: pg.url, ports });
    await stack.start();
    base = stack.services.auth.url;
    publicBase = `http://localhost:${ports.auth}`; // auth's public URL: what the SP's entity id and ACS are made of
    keys = await generateSigningKeyPair('test idp');
    const token = createAdminToken({ DATABASE_URL: pg.url, DATA_DIR: stack.dataDir });
    for (const [id, allowIdpInitiated] of [
      ['test', false],
      ['test-idpinit', true],
    ] as const) {
      const created = await fetch(`${base}/api/v1/idps`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          id,
          name: id,
          manual: { entityId: IDP, ssoUrl: `${IDP}/protocol/saml`, certificates: [keys.certificatePem] },
          allowIdpInitiated,
        }),
      });
      expect(created.status).toBe(201);
    }
    sql = new Client({ connectionString: pg.url });
    await sql.connect();
  });

  afterAll(async () => {
    await sql?.end();
    await stack?.stop();
    await pg?.drop();
    await nats?.stop();
  });

  /** A login started at /login in a browser: its RelayState and the request id its answer must carry. */
  async function startLogin(idp = 'test', browser = new TestBrowser()): Promise<{ relayState: string; requestId: string; browser: TestBrowser }> {
    const res = await browser.fetch(`${base}/login?idp=${idp}&returnTo=/session`);
    expect(res.status).toBe(302);
    const to = new URL(res.headers.get('location')!);
    const request = inflateRawSync(Buffer.from(to.searchParams.get('SAMLRequest')!, 'base64')).toString('utf8');
    return { relayState: to.searchParams.get('RelayState')!, requestId: /ID="([^"]+)"/.exec(request)![1], browser };
  }

  const respond = (idp: string, o: { inResponseTo?: string; nameId: string; assertionId?: string }) =>
    toBase64(
      buildSignedResponse({
        keys,
        idpEntityId: IDP,
        spEntityId: `${publicBase}/saml/${idp}/metadata`,
        acsUrl: `${publicBase}/saml/${idp}/acs`,
        inResponseTo: o.inResponseTo,
        nameId: o.nameId,
        assertionId: o.assertionId,
        attributes: { email: [`${o.nameId}@example.com`], groups: ['/staff'] },
        signAssertion: true,
      }),
    );

  /** Posts to the ACS from `browser` (a fresh one by default: it holds no login cookie). */
  async function post(idp: string, samlResponse: string, relayState?: string, browser = new TestBrowser()) {
    const res = await browser.fetch(`${base}/saml/${idp}/acs`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ SAMLResponse: samlResponse, ...(relayState ? { RelayState: relayState } : {}) }),
    });
    const text = await res.text();
    return {
      status: res.status,
      location: res.headers.get('location'),
      cookie: res.headers.get('set-cookie'),
      traceId: /id="trace-id">([^<]+)</.exec(text)?.[1],
    };
  }

  const trace = async (id: string) => (await rows('SELECT status, reason_code, reason, user_id FROM auth.login_traces WHERE id = $1', [id]))[0];
  const steps = async (id: string) => (await rows('SELECT step FROM auth.login_trace_steps WHERE trace_id = $1 ORDER BY at, id', [id])).map((r) => r.step);

  it('signs the user in once, and writes the trace with its steps and the session together', async () => {
    const login = await startLogin();
    const [state] = await rows('SELECT trace_id, request_id FROM auth.login_states WHERE relay_state = $1', [login.relayState]);
    // The request id is kept in the login state alone, not in the shared request store.
    expect(state.request_id).toBe(login.requestId);
    expect(await rows('SELECT 1 FROM auth.saml_requests WHERE id = $1', [login.requestId])).toEqual([]);
    const done = await post('test', respond('test', { inResponseTo: login.requestId, nameId: 'ann' }), login.relayState, login.browser);
    expect(done).toMatchObject({ status: 302, location: '/session', cookie: expect.stringContaining('HttpOnly') });
    expect(await trace(state.trace_id)).toMatchObject({ status: 'succeeded', user_id: expect.any(String) });
    // (the first login creates the group staff, which this IdP owns from then on: the trace says so;
    // the assertion carries no email or name attribute, which the trace says too)
    expect(await steps(state.trace_id)).toEqual([
      'login.started',
      'saml.authn-request',
      'saml.response-received',
      'saml.response-valid',
      'user.authenticated',
      'provisioning.groups-created',
      'provisioning.claims-absent',
      'succeeded',
    ]);
    expect(await rows('SELECT 1 FROM auth.sessions WHERE user_id = $1', [(await trace(state.trace_id)).user_id])).toHaveLength(1);
    expect(await rows('SELECT 1 FROM auth.login_states WHERE relay_state = $1', [login.relayState])).toEqual([]);
  });

  it('refuses the same response posted again, with its RelayState, without it, or with another login’s', async () => {
    const login = await startLogin();
    const response = respond('test', { inResponseTo: login.requestId, nameId: 'ben' });
    expect((await post('test', response, login.relayState, login.browser)).status).toBe(302);
    const sessions = (await rows('SELECT count(*)::int AS n FROM auth.sessions'))[0].n;

    const again = await post('test', response, login.relayState, login.browser);
    expect(again.status).toBe(400);
    expect(await trace(again.traceId!)).toMatchObject({ status: 'failed', reason_code: 'in_response_to' });

    const bare = await post('test', response);
    expect(bare.status).toBe(400);
    expect(await trace(bare.traceId!)).toMatchObject({ status: 'failed', reason_code: 'in_response_to' });
    expect(await steps(bare.traceId!)).toEqual(['saml.unsolicited-response', 'saml.response-received', 'failed']);

    const other = await startLogin();
    const borrowed = await post('test', response, other.relayState, other.browser);
    expect(borrowed.status).toBe(400);
    expect(await trace(borrowed.traceId!)).toMatchObject({ status: 'failed', reason_code: 'in_response_to' });
    expect((await rows('SELECT count(*)::int AS n FROM auth.sessions'))[0].n).toBe(sessions);
  });

  it('a response posted first without its RelayState is refused and spoils nothing: the browser that started the login still signs in with it', async () => {
    const login = await startLogin();
    const response = respond('test', { inResponseTo: login.requestId, nameId: 'bea', assertionId: '_posted-twice' });
    const stray = await post('test', response);
    expect(stray.status).toBe(400);
    expect(await trace(stray.traceId!)).toMatchObject({
      status: 'failed',
      reason_code: 'in_response_to',
      reason: expect.stringContaining('no login in progress in this browser'),
    });
    expect(await rows("SELECT 1 FROM auth.saml_assertions WHERE id = 'test:_posted-twice'")).toEqual([]);
    expect((await post('test', response, login.relayState, login.browser)).status).toBe(302);
  });

  it('refuses a new response that reuses an assertion already accepted', async () => {
    const first = await startLogin('test-idpinit');
    expect(
      (
        await post(
          'test-idpinit',
          respond('test-idpinit', { inResponseTo: first.requestId, nameId: 'cat', assertionId: '_reused-assertion' }),
          first.relayState,
          first.browser,
        )
      ).status,
    ).toBe(302);
    const second = await startLogin('test-idpinit');
    const reused = await post(
      'test-idpinit',
      respond('test-idpinit', { inResponseTo: second.requestId, nameId: 'cat', assertionId: '_reused-assertion' }),
      second.relayState,
      second.browser,
    );
    expect(reused.status).toBe(400);
    expect(await trace(reused.traceId!)).toMatchObject({ status: 'failed', reason_code: 'replay', reason: expect.stringContaining('_reused-assertion') });
    // IdP-initiated (no InResponseTo at all) is held to the same rule.
    const unsolicited = respond('test-idpinit', { nameId: 'cat', assertionId: '_reused-idp-initiated' });
    expect((await post('test-idpinit', unsolicited)).status).toBe(302);
    const replayed = await post('test-idpinit', unsolicited);
    expect(replayed.status).toBe(400);
    expect(await trace(replayed.traceId!)).toMatchObject({ status: 'failed', reason_code: 'replay' });
  });

  it('refuses an unsolicited response where IdP-initiated login is off, and traces it', async () => {
    const refused = await post('test', respond('test', { nameId: 'dan' }));
    expect(refused.status).toBe(400);
    expect(await trace(refused.traceId!)).toMatchObject({ status: 'failed', reason_code: 'unsolicited' });
    expect(await steps(refused.traceId!)).toEqual(['saml.unsolicited-response', 'saml.response-received', 'failed']);
  });
});
