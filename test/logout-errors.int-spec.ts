import { deflateRawSync } from 'node:zlib';
import { Client } from 'pg';
import { generateSigningKeyPair } from '@bridgekeeper/saml';
import {
  buildLogoutRequestQuery,
  createTestDatabase,
  freePort,
  OidcTestIdp,
  startNats,
  startOidcIdp,
  TestDatabase,
  TestIdpKeys,
  TestNats,
  waitFor,
} from '@bridgekeeper/testing';
import { createAdminToken, Stack } from './support/stack';

/**
 * What an IdP's logout message gets back when auth cannot look the IdP up, on the running auth
 * service over real NATS and PostgreSQL: an outage (the IdP's metadata, discovery document or
 * JWKS unreachable; auth's database failing) is a 503 `idp_unavailable`, so the IdP sends the
 * logout again, with nothing of the cause in the body (that is in auth's log); only an IdP that is
 * not configured, or disabled, is a 404 `unknown_idp`. Before, every failure of the lookup was a
 * 404 (SAML) or "the logout token was refused" (OIDC), and the IdP stopped retrying.
 */
describe('logout messages while the IdP cannot be looked up (the running auth service)', () => {
  const IDP = 'https://idp.example.com/realms/test';
  let nats: TestNats;
  let pg: TestDatabase;
  let stack: Stack;
  let sql: Client;
  let keys: TestIdpKeys;
  let oidc: OidcTestIdp;
  let gone: OidcTestIdp;
  let base: string;
  let admin: string;
  /** A port nothing listens on: the metadata and discovery URLs of the IdPs configured at start. */
  let deadPort: number;

  /** What an outage's answer must never carry: the cause, addresses, SQL, library words. */
  const INTERNALS =
    /ECONNREFUSED|fetch failed|127\.0\.0\.1|could not be loaded|relation|idps_away|does not exist|QueryFailed|metadata of|discovery document|JWKS|\bat [\w.]+ \(/;

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json().catch(() => undefined) };
  };
  const logoutRequest = (idp: string) =>
    `${base}/saml/${idp}/slo?${buildLogoutRequestQuery({ keys, idpEntityId: IDP, sloUrl: `${base}/saml/${idp}/slo`, nameId: 'ulla' })}`;
  /** The IdP's answer to a logout of ours, as the browser brings it back (HTTP-Redirect binding). */
  const logoutResponse = (idp: string) => {
    const xml =
      `<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r${Date.now()}" Version="2.0" ` +
      `IssueInstant="${new Date().toISOString()}" Destination="${base}/saml/${idp}/slo" InResponseTo="_ours"><saml:Issuer>${IDP}</saml:Issuer>` +
      `<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status></samlp:LogoutResponse>`;
    return `${base}/saml/${idp}/slo?SAMLResponse=${encodeURIComponent(deflateRawSync(xml).toString('base64'))}&RelayState=%2F`;
  };
  const backchannel = (idp: string, token: string) =>
    fetch(`${base}/oidc/${idp}/backchannel-logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ logout_token: token }),
    });
  const answer = async (res: Response) => ({
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    retryAfter: res.headers.get('retry-after'),
    body: await res.text(),
  });
  /** auth's log (it comes through the child's stdout pipe, which may arrive after the HTTP answer). */
  const logged = (pattern: RegExp) => waitFor(`auth to log ${pattern}`, async () => pattern.test(stack.services.auth.output), 5_000);

  /** A SAML front-channel answer to an outage: the plain "unavailable" page, 503, nothing of the cause. */
  const expectUnavailablePage = (a: Awaited<ReturnType<typeof answer>>) => {
    expect(a.status).toBe(503);
    expect(a.type).toMatch(/text\/html/);
    expect(a.body).toContain('Identity provider unavailable');
    expect(a.body).not.toMatch(INTERNALS);
  };
  /** A back-channel answer to an outage: OAuth-style JSON, 503, Retry-After, nothing of the cause. */
  const expectUnavailableJson = (a: Awaited<ReturnType<typeof answer>>) => {
    expect(a.status).toBe(503);
    expect(a.retryAfter).toMatch(/^\d+$/);
    expect(JSON.parse(a.body)).toEqual({ error: 'idp_unavailable', error_description: 'the logout cannot be processed right now; send it again later' });
    expect(a.body).not.toMatch(INTERNALS);
  };

  beforeAll(async () => {
    nats = await startNats();
    pg = await createTestDatabase();
    deadPort = await freePort();
    const ports = { auth: await freePort(), directory: await freePort(), provisioning: await freePort() };
    base = `http://localhost:${ports.auth}`;
    // The IdPs configured by the environment are created at start without their metadata or
    // discovery document, which is fetched on first use: from a port nothing listens on.
    stack = new Stack({
      natsUrl: nats.url,
      databaseUrl: pg.url,
      ports,
      extraEnv: {
        auth: {
          AUTH_SAML_IDP_ID: 'unreachable',
          AUTH_SAML_IDP_METADATA_URL: `http://127.0.0.1:${deadPort}/realms/gone/protocol/saml/descriptor`,
          AUTH_OIDC_IDP_ID: 'unreachable-oidc',
          AUTH_OIDC_ISSUER: `http://127.0.0.1:${deadPort}/realms/gone`,
          AUTH_OIDC_CLIENT_ID: 'bridgekeeper',
          AUTH_OIDC_CLIENT_SECRET: 'int-test-secret-0123456789',
        },
      },
    });
    // The directory answers admin tokens; provisioning plays no part in a logout.
    await stack.start('directory', 'auth');
    admin = createAdminToken({ DATABASE_URL: pg.url, DATA_DIR: stack.dataDir });
    keys = await generateSigningKeyPair('test idp');
    oidc = await startOidcIdp({
      clientId: 'bridgekeeper',
      clientSecret: 'int-test-secret-0123456789',
      users: [{ sub: 'sub-ulla', claims: { preferred_username: 'ulla' } }],
    });
    gone = await startOidcIdp({
      clientId: 'bridgekeeper',
      clientSecret: 'int-test-secret-0123456789',
      users: [{ sub: 'sub-ulla', claims: { preferred_username: 'ulla' } }],
    });
    const saml = (id: string, enabled: boolean) => ({
      id,
      name: id,
      enabled,
      manual: { entityId: IDP, ssoUrl: `${IDP}/protocol/saml`, sloUrl: `${IDP}/protocol/saml`, certificates: [keys.certificatePem] },
    });
    const openid = (id: string, enabled: boolean, op: OidcTestIdp) => ({
      id,
      name: id,
      enabled,
      protocol: 'oidc',
      oidc: { issuer: op.issuer, clientId: op.clientId, clientSecret: op.clientSecret },
    });
    for (const body of [
      saml('test', true),
      saml('off', false),
      openid('test-oidc', true, oidc),
      openid('off-oidc', false, oidc),
      openid('gone-jwks', true, gone),
    ]) {
      const created = await api('POST', '/api/v1/idps', body);
      expect(created).toMatchObject({ status: 201 });
    }
    // This OP's discovery document is stored; then it goes away, its JWKS with it (read on a token's first check).
    await gone.stop();
    sql = new Client({ connectionString: pg.url });
    await sql.connect();
  });

  afterAll(async () => {
    await sql?.end();
    await stack?.stop();
    await oidc?.stop();
    await pg?.drop();
    await nats?.stop();
  });

  describe("the IdP's metadata, discovery document or keys cannot be fetched", () => {
    it('a SAML LogoutRequest (Redirect and POST bindings) is answered 503, not "unknown IdP"; the cause is in the log', async () => {
      expectUnavailablePage(await answer(await fetch(logoutRequest('unreachable'), { redirect: 'manual' })));
      // HTTP-POST binding: the message is read only once the IdP is known, so its content plays no part here.
      const posted = await fetch(`${base}/saml/unreachable/slo`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          SAMLRequest: Buffer.from(`<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_p1"/>`).toString('base64'),
        }),
        redirect: 'manual',
      });
      expectUnavailablePage(await answer(posted));
      await logged(/identity provider unreachable is unavailable: the metadata of identity provider 'unreachable' could not be loaded: .*fetch failed/);
    });

    it("the IdP's LogoutResponse to a logout of ours (front channel) is answered 503 too", async () => {
      expectUnavailablePage(await answer(await fetch(logoutResponse('unreachable'), { redirect: 'manual' })));
    });

    it('an OIDC back-channel logout is answered 503 with Retry-After when the discovery document cannot be fetched', async () => {
      expectUnavailableJson(await answer(await backchannel('unreachable-oidc', await oidc.logoutToken({ sub: 'sub-ulla' }))));
      await logged(/identity provider unreachable-oidc is unavailable: the discovery document .* could not be loaded: .*fetch failed/);
    });

    it("an OIDC back-channel logout is answered 503 with Retry-After when the IdP's JWKS cannot be fetched (not 'token refused')", async () => {
      expectUnavailableJson(await answer(await backchannel('gone-jwks', await gone.logoutToken({ sub: 'sub-ulla' }))));
      await logged(/identity provider gone-jwks is unavailable: jwks_unavailable: the identity provider's JWKS could not be read/);
    });
  });

  describe("auth's database fails while the IdP is read", () => {
    /** auth's table of IdPs made unreadable (renamed away) for the requests `during` makes, then put back. */
    async function withIdpsTableAway<T>(during: () => Promise<T>): Promise<T> {
      await sql.query('ALTER TABLE auth.idps RENAME TO idps_away');
      try {
        return await during();
      } finally {
        await sql.query('ALTER TABLE auth.idps_away RENAME TO idps');
      }
    }

    it('a SAML LogoutRequest and LogoutResponse, an OIDC back-channel logout and the SP metadata are answered 503, not 404 or 500', async () => {
      const token = await oidc.logoutToken({ sub: 'sub-ulla' });
      const [request, response, back, metadata] = await withIdpsTableAway(async () => [
        await answer(await fetch(logoutRequest('test'), { redirect: 'manual' })),
        await answer(await fetch(logoutResponse('test'), { redirect: 'manual' })),
        await answer(await backchannel('test-oidc', token)),
        await answer(await fetch(`${base}/saml/test/metadata`)),
      ]);
      expectUnavailablePage(request);
      expectUnavailablePage(response);
      expectUnavailableJson(back);
      expectUnavailablePage(metadata);
      expect(metadata.retryAfter).toMatch(/^\d+$/);
      // The cause, with its stack, for each of them (the metadata route's too).
      for (const who of ['SamlLogoutService', 'OidcLogoutService', 'SamlController'])
        await logged(
          new RegExp(`"context":"${who}","msg":"identity provider test(-oidc)? could not be read: QueryFailedError: relation .*does not exist\\\\n    at `),
        );

      // The database back, the same back-channel logout is honoured: the IdP's retry works.
      const retried = await backchannel('test-oidc', token);
      expect(retried.status).toBe(200);
      expect(await retried.json()).toEqual({ ended: 0 });
      expect((await fetch(`${base}/saml/test/metadata`)).status).toBe(200);
    });
  });

  describe("auth's database fails after the IdP is read, while the sessions are ended", () => {
    /** auth's sessions table made unwritable (renamed away) for the requests `during` makes, then put back. */
    async function withSessionsAway<T>(during: () => Promise<T>): Promise<T> {
      await sql.query('ALTER TABLE auth.sessions RENAME TO sessions_away');
      try {
        return await during();
      } finally {
        await sql.query('ALTER TABLE auth.sessions_away RENAME TO sessions');
      }
    }

    it("a back-channel logout that could not end the sessions is not remembered: the IdP's retry ends them (not 'already used')", async () => {
      const token = await oidc.logoutToken({ sub: 'sub-ulla' });
      const failed = await withSessionsAway(() => backchannel('test-oidc', token));
      expect(failed.status).toBeGreaterThanOrEqual(500);
      expect(await failed.text()).not.toMatch(INTERNALS);
      const retried = await backchannel('test-oidc', token);
      expect(retried.status).toBe(200);
      expect(await retried.json()).toEqual({ ended: 0 });
      // Honoured once: the same token again is a replay.
      expect((await backchannel('test-oidc', token)).status).toBe(400);
    });

    it('a SAML LogoutRequest that could not end the sessions is not remembered either: sent again, it is honoured', async () => {
      const url = logoutRequest('test');
      const failed = await withSessionsAway(() => fetch(url, { redirect: 'manual' }));
      expect(failed.status).toBeGreaterThanOrEqual(500);
      expect(await failed.text()).not.toMatch(INTERNALS);
      const retried = await fetch(url, { redirect: 'manual' });
      expect(retried.status).toBe(302);
      expect((await fetch(url, { redirect: 'manual' })).status).toBe(400);
    });
  });

  describe('an IdP that is not configured, or disabled, is what it was', () => {
    it('unknown: 404 on SAML single logout, back-channel logout and SP metadata', async () => {
      const slo = await answer(await fetch(logoutRequest('nobody'), { redirect: 'manual' }));
      expect(slo.status).toBe(404);
      expect(slo.body).toContain('Unknown identity provider');
      const back = await backchannel('nobody', await oidc.logoutToken({ sub: 'sub-ulla' }));
      expect(back.status).toBe(404);
      expect(await back.json()).toEqual({ error: 'unknown_idp', error_description: 'no such identity provider' });
      expect((await fetch(`${base}/saml/nobody/metadata`)).status).toBe(404);
      // An IdP of the other protocol is unknown to this protocol's routes.
      expect((await backchannel('test', await oidc.logoutToken({ sub: 'sub-ulla' }))).status).toBe(404);
      expect((await fetch(logoutRequest('test-oidc'), { redirect: 'manual' })).status).toBe(404);
    });

    it('disabled: 404 on SAML single logout and back-channel logout; its SP metadata is still served', async () => {
      const slo = await answer(await fetch(logoutRequest('off'), { redirect: 'manual' }));
      expect(slo.status).toBe(404);
      expect(slo.body).toContain('Unknown identity provider');
      const back = await backchannel('off-oidc', await oidc.logoutToken({ sub: 'sub-ulla' }));
      expect(back.status).toBe(404);
      expect(await back.json()).toEqual({ error: 'unknown_idp', error_description: 'no such identity provider' });
      expect((await fetch(`${base}/saml/off/metadata`)).status).toBe(200);
    });
  });
});
