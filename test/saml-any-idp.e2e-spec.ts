import { X509Certificate } from 'node:crypto';
import { Client } from 'pg';
import { generateSigningKeyPair } from '@bridgekeeper/saml';
import {
  createTestDatabase,
  freePort,
  NAMEID_FORMAT,
  readPostForm,
  samlifyLogin,
  SamlifyIdp,
  startNats,
  startSamlifyIdp,
  TestBrowser,
  TestDatabase,
  TestIdpKeys,
  TestNats,
} from '@bridgekeeper/testing';
import { createAdminToken, Stack } from './support/stack';

/**
 * Bridgekeeper against a SAML IdP that is not Keycloak: samlify, started in-process, signing in
 * whoever the test says through the real endpoints (/login, the IdP's SSO, the ACS, /logout, the
 * SLO) of the whole stack (services from dist/, real NATS and PostgreSQL). Keycloak's own SAML
 * login is covered by saml-login.e2e-spec.ts; these are the edges an independent IdP shows.
 */
describe('SAML login through a samlify IdP', () => {
  let nats: TestNats;
  let pg: TestDatabase;
  let stack: Stack;
  let sql: Client;
  let base: string;
  let admin: string;
  let keys: TestIdpKeys;
  let foreignKeys: TestIdpKeys;
  const idps: SamlifyIdp[] = [];

  const api = async (service: 'auth' | 'provisioning' | 'directory', method: string, path: string, body?: unknown) => {
    const res = await fetch(`${stack.services[service].url}${path}`, {
      method,
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json().catch(() => undefined) };
  };
  const rows = async (query: string, params: unknown[] = []) => (await sql.query(query, params)).rows;

  /** A samlify IdP and its configuration here (JIT), under a fresh id. */
  async function addIdp(options: Record<string, unknown> = {}): Promise<{ id: string; idp: SamlifyIdp }> {
    const id = `samlify-${crypto.randomUUID().slice(0, 8)}`;
    const idp = await startSamlifyIdp({ keys, spMetadataUrl: `${base}/saml/${id}/metadata` });
    idps.push(idp);
    const created = await api('auth', 'POST', '/api/v1/idps', { id, name: `samlify ${id}`, metadataXml: idp.metadata, ...options });
    expect(created.status).toBe(201);
    return { id, idp };
  }

  /** A login at `id`: where the ACS sends the browser, or the refusal as the page and the trace say it. */
  async function login(id: string, browser = new TestBrowser()) {
    const { acs, samlResponse } = await samlifyLogin(browser, base, id);
    const page = await acs.text();
    const traceId = /id="trace-id">([^<]+)</.exec(page)?.[1];
    const trace = traceId ? (await api('auth', 'GET', `/api/v1/login-traces/${traceId}`)).body : undefined;
    return {
      status: acs.status,
      location: acs.headers.get('location'),
      page,
      reasonCode: trace?.reasonCode,
      reason: trace?.reason as string | undefined,
      samlResponse,
      browser,
    };
  }

  const session = async (browser: TestBrowser) => {
    const res = await browser.fetch(`${base}/session`);
    return { status: res.status, body: res.ok ? await res.json() : undefined };
  };
  const usersOf = (idp: string) => rows('SELECT id, username, external_id FROM directory.users WHERE source = $1 ORDER BY username', [idp]);

  beforeAll(async () => {
    nats = await startNats();
    pg = await createTestDatabase();
    const ports = { auth: await freePort(), directory: await freePort(), provisioning: await freePort() };
    stack = new Stack({ natsUrl: nats.url, databaseUrl: pg.url, ports });
    await stack.start();
    base = `http://localhost:${ports.auth}`;
    admin = createAdminToken({ DATABASE_URL: pg.url, DATA_DIR: stack.dataDir });
    keys = await generateSigningKeyPair('samlify idp');
    foreignKeys = await generateSigningKeyPair('someone else');
    sql = new Client({ connectionString: pg.url });
    await sql.connect();
  });

  afterAll(async () => {
    for (const idp of idps) await idp.stop();
    await sql?.end();
    await stack?.stop();
    await pg?.drop();
    await nats?.stop();
  });

  it('keeps every value of an attribute sent as several <Attribute> elements, at login and in the simulator (which takes the base64 response the ACS took)', async () => {
    const { id, idp } = await addIdp();
    idp.login = {
      nameId: 'rita',
      attributes: [
        ['email', 'rita@example.com'],
        ['groups', 'engineering'],
        ['groups', 'staff'],
        ['groups', ['ops', 'oncall']],
      ],
    };
    const done = await login(id);
    expect(done).toMatchObject({ status: 302, location: '/session' });
    // samlify's NameID is persistent, an id and no name: the username is the email (docs/idps/).
    expect((await session(done.browser)).body).toMatchObject({
      user: { username: 'rita@example.com', email: 'rita@example.com' },
      groups: ['engineering', 'oncall', 'ops', 'staff'],
    });
    // The simulator reads the same response (as posted: base64) the same way.
    const simulated = await api('provisioning', 'POST', `/api/v1/idps/${id}/simulate`, { assertionXml: done.samlResponse });
    expect(simulated).toMatchObject({
      status: 200,
      body: { identity: { username: 'rita@example.com', groups: expect.arrayContaining(['engineering', 'staff', 'ops', 'oncall']) } },
    });
    expect(simulated.body.identity.groups).toHaveLength(4);
    // …and the decoded XML alike.
    const decoded = await api('provisioning', 'POST', `/api/v1/idps/${id}/simulate`, {
      assertionXml: Buffer.from(done.samlResponse, 'base64').toString('utf8'),
    });
    expect(decoded.body.identity).toEqual(simulated.body.identity);
    // Neither base64 of something else nor plain text is taken for a response.
    expect(await api('provisioning', 'POST', `/api/v1/idps/${id}/simulate`, { assertionXml: Buffer.from('hello').toString('base64') })).toMatchObject({
      status: 400,
    });
  });

  it('never keys a user on a transient NameID: refused with what to change, or keyed on the configured attribute (an id, never a name), in the simulator as at login', async () => {
    const { id, idp } = await addIdp();
    const guid = crypto.randomUUID();
    idp.login = {
      nameId: `_t${crypto.randomUUID()}`,
      nameIdFormat: NAMEID_FORMAT.transient,
      attributes: [
        ['objectGUID', guid],
        ['uid', 'tess'],
        ['email', 'tess@example.com'],
      ],
    };
    const refused = await login(id);
    expect(refused).toMatchObject({ status: 400, reasonCode: 'name_id_transient' });
    expect(refused.reason).toMatch(/transient NameID[\s\S]*persistent[\s\S]*subjectAttribute/);
    expect(refused.page).not.toMatch(/transient|NameID|subjectAttribute/);
    expect(await usersOf(id)).toEqual([]);
    // The simulator, given that response, refuses it as the login did (it used to key a user on the transient NameID).
    expect(await api('provisioning', 'POST', `/api/v1/idps/${id}/simulate`, { assertionXml: refused.samlResponse })).toMatchObject({
      status: 200,
      body: { outcome: 'rejected', code: 'name_id_transient', reason: expect.stringContaining('subjectAttribute') },
    });

    // A name or an address never keys users: a renamed person would become someone new, and the next holder of the name would inherit the account.
    for (const mutable of ['uid', 'email', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn', 'urn:oid:0.9.2342.19200300.100.1.3']) {
      expect(await api('auth', 'PATCH', `/api/v1/idps/${id}`, { subjectAttribute: mutable })).toMatchObject({
        status: 400,
        body: { detail: expect.stringMatching(/^subjectAttribute: .*inherit the account/) },
      });
    }
    expect(await api('auth', 'GET', `/api/v1/idps/${id}`)).toMatchObject({ status: 200, body: { subjectAttribute: null } });

    // The identity taken from an id attribute instead: two logins, two transient NameIDs, one user.
    expect(await api('auth', 'PATCH', `/api/v1/idps/${id}`, { subjectAttribute: 'objectGUID' })).toMatchObject({
      status: 200,
      body: { subjectAttribute: 'objectGUID' },
    });
    const first = await login(id);
    expect(first).toMatchObject({ status: 302, location: '/session' });
    idp.login = { ...idp.login, nameId: `_t${crypto.randomUUID()}` };
    const again = await login(id);
    expect(again).toMatchObject({ status: 302 });
    // Keyed on the id: the username is the email, never the key (attacker review).
    expect((await session(again.browser)).body).toMatchObject({ user: { username: 'tess@example.com' } });
    expect(await usersOf(id)).toEqual([expect.objectContaining({ username: 'tess@example.com', external_id: guid })]);
    // The simulator keys the pasted response on the attribute too, and reads a traced login as it was keyed.
    const simulated = await api('provisioning', 'POST', `/api/v1/idps/${id}/simulate`, { assertionXml: again.samlResponse });
    expect(simulated).toMatchObject({ status: 200, body: { outcome: 'unchanged', identity: { username: 'tess@example.com' } } });
    const traceId = (await api('auth', 'GET', `/api/v1/login-traces?idp=${id}&limit=1`)).body.items[0].id;
    expect(await api('auth', 'GET', `/api/v1/login-traces/${traceId}`)).toMatchObject({ body: { subject: guid, subjectFormat: 'attribute:objectGUID' } });
    expect(await api('provisioning', 'POST', `/api/v1/idps/${id}/simulate`, { traceId })).toMatchObject({
      status: 200,
      body: { outcome: 'unchanged', identity: { username: 'tess@example.com' } },
    });

    // Asking for transient NameIDs needs an attribute that keys users: refused without one, nothing changed.
    expect(await api('auth', 'PATCH', `/api/v1/idps/${id}`, { subjectAttribute: null, nameIdFormat: NAMEID_FORMAT.transient })).toMatchObject({
      status: 400,
      body: { detail: expect.stringContaining('subjectAttribute') },
    });
    expect(await api('auth', 'GET', `/api/v1/idps/${id}`)).toMatchObject({ status: 200, body: { subjectAttribute: 'objectGUID', nameIdFormat: null } });
    const other = `samlify-${crypto.randomUUID().slice(0, 8)}`;
    expect(
      await api('auth', 'POST', '/api/v1/idps', { id: other, name: other, metadataXml: idp.metadata, nameIdFormat: NAMEID_FORMAT.transient }),
    ).toMatchObject({ status: 400 });
    expect(await api('auth', 'POST', '/api/v1/idps', { id: other, name: other, metadataXml: idp.metadata, subjectAttribute: 'mail' })).toMatchObject({
      status: 400,
    });
    expect(await api('auth', 'GET', `/api/v1/idps/${other}`)).toMatchObject({ status: 404 });

    // An assertion without that attribute is refused, naming it; the simulator says the same.
    idp.login = { nameId: `_t${crypto.randomUUID()}`, nameIdFormat: NAMEID_FORMAT.transient, attributes: [['email', 'tess@example.com']] };
    const missing = await login(id);
    expect(missing).toMatchObject({ status: 400, reasonCode: 'subject_attribute', reason: expect.stringMatching(/objectGUID/) });
    expect(await api('provisioning', 'POST', `/api/v1/idps/${id}/simulate`, { assertionXml: missing.samlResponse })).toMatchObject({
      status: 200,
      body: { outcome: 'rejected', code: 'subject_attribute' },
    });
  });

  it('refuses a NameID in another format than the one asked for, naming both', async () => {
    const { id, idp } = await addIdp({ nameIdFormat: NAMEID_FORMAT.persistent });
    idp.login = { nameId: 'pat@example.com', nameIdFormat: NAMEID_FORMAT.email, attributes: [['email', 'pat@example.com']] };
    const refused = await login(id);
    expect(idp.last.authnRequest).toContain(`Format="${NAMEID_FORMAT.persistent}"`);
    expect(refused).toMatchObject({ status: 400, reasonCode: 'name_id_format' });
    expect(refused.reason).toContain(NAMEID_FORMAT.email);
    expect(refused.reason).toContain(NAMEID_FORMAT.persistent);
    expect(await usersOf(id)).toEqual([]);
    idp.login = { ...idp.login, nameId: 'pat-1234', nameIdFormat: NAMEID_FORMAT.persistent };
    expect(await login(id)).toMatchObject({ status: 302 });
  });

  it('says whether the assertion is not signed or signed with a key the configuration does not trust', async () => {
    const { id, idp } = await addIdp();
    idp.login = { nameId: 'sam', attributes: [['email', 'sam@example.com']], signAssertion: false, signResponse: true };
    const unsigned = await login(id);
    expect(unsigned).toMatchObject({ status: 400, reasonCode: 'signature' });
    expect(unsigned.reason).toMatch(/assertion is not signed[\s\S]*turn on assertion signing at the IdP/);

    idp.login = { nameId: 'sam', attributes: [['email', 'sam@example.com']], signWith: foreignKeys };
    const foreign = await login(id);
    expect(foreign).toMatchObject({ status: 400, reasonCode: 'signature' });
    expect(foreign.reason).toContain('signed with a key this IdP');
    expect(foreign.reason).toContain(new X509Certificate(foreignKeys.certificatePem).fingerprint256);
    expect(foreign.reason).toContain(new X509Certificate(keys.certificatePem).fingerprint256);
    // The visitor learns neither.
    expect(foreign.page.replace(/id="trace-id">[^<]+</, '')).toEqual(unsigned.page.replace(/id="trace-id">[^<]+</, ''));
    expect(await usersOf(id)).toEqual([]);
  });

  it('an unsigned LogoutResponse to our logout: the person is told they are signed out here, the admin why the answer was refused', async () => {
    const { id, idp } = await addIdp();
    idp.login = { nameId: 'lou', attributes: [['email', 'lou@example.com']] };
    idp.signLogoutResponse = false;
    const { browser } = await login(id);
    expect((await session(browser)).status).toBe(200);
    const out = await browser.fetch(`${base}/logout`, { method: 'POST' });
    expect(out.status).toBe(303);
    const atIdp = await browser.fetch(out.headers.get('location')!);
    const html = await atIdp.text();
    if (atIdp.status !== 200) throw new Error(`the IdP's SLO answered ${atIdp.status}: ${html}`);
    expect(idp.last.logoutRequest).toContain('LogoutRequest');
    const form = readPostForm(html);
    expect(Buffer.from(form.fields.SAMLResponse, 'base64').toString('utf8')).not.toContain('Signature');
    const answer = await browser.fetch(new URL(new URL(form.action).pathname, base), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form.fields).toString(),
    });
    // A cross-site POST carries no session cookie: the answer is judged again on a GET of ours, which does.
    expect(answer.status).toBe(303);
    const landed = await browser.fetch(new URL(answer.headers.get('location')!, base));
    const page = await landed.text();
    expect(page).toMatch(/signed out here/i);
    expect(page).not.toMatch(/Sign-out refused/);
    expect((await session(browser)).status).toBe(401);

    // A forged LogoutResponse posted from another site to someone still signed in never tells them they are signed out (attacker review).
    const victim = (await login(id)).browser;
    expect((await session(victim)).status).toBe(200);
    const forged = `<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_forged" Version="2.0" IssueInstant="${new Date().toISOString()}"/>`;
    const posted = await fetch(new URL(new URL(form.action).pathname, base), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ SAMLResponse: Buffer.from(forged).toString('base64') }).toString(),
    });
    expect(posted.status).toBe(303);
    const told = await (await victim.fetch(new URL(posted.headers.get('location')!, base))).text();
    expect(told).toMatch(/Sign-out refused/);
    expect(told).not.toMatch(/signed out here/i);
    expect((await session(victim)).status).toBe(200);
    const traceId = /id="trace-id">([^<]+)</.exec(page)![1];
    const trace = (await api('auth', 'GET', `/api/v1/login-traces/${traceId}`)).body;
    expect(trace).toMatchObject({ idp: id, reasonCode: 'logout_response_refused' });
    expect(trace.reason).toMatch(/LogoutResponse is not signed[\s\S]*sign/);
  });

  it('a persistent NameID and no attributes at all: the known user is kept as they are, the trace says what was absent, and no managed group is left (issue 27)', async () => {
    const { id, idp } = await addIdp();
    const nameId = `p-${crypto.randomUUID()}`; // persistent: an id, never a name
    idp.login = {
      nameId,
      attributes: [
        ['email', 'vera@example.com'],
        ['firstName', 'Vera'],
        ['lastName', 'Lynn'],
        ['groups', ['choir', 'vera-team']],
      ],
    };
    expect(await login(id)).toMatchObject({ status: 302, location: '/session' });
    /** The directory's user keyed on the NameID, with their groups, through the admin API. */
    const userOf = async () => {
      const page = await api('directory', 'GET', `/api/v1/users?source=${id}&limit=100`);
      const found = (page.body.items as { id: string; externalId: string }[]).find((u) => u.externalId === nameId);
      return found && (await api('directory', 'GET', `/api/v1/users/${found.id}`)).body;
    };
    const lastTrace = async () => {
      const list = await api('auth', 'GET', `/api/v1/login-traces?idp=${id}&limit=1`);
      return (await api('auth', 'GET', `/api/v1/login-traces/${list.body.items[0].id}`)).body;
    };
    const before = await userOf();
    expect(before).toMatchObject({ username: 'vera@example.com', email: 'vera@example.com', displayName: 'Vera Lynn' });
    expect(before.groups.map((g: { name: string }) => g.name)).toEqual(['choir', 'vera-team']);

    idp.login = { nameId };
    const bare = await login(id);
    expect(bare).toMatchObject({ status: 302, location: '/session' });
    expect(idp.last.response).not.toContain('AttributeStatement');
    const after = await userOf();
    expect(after).toMatchObject({ id: before.id, username: 'vera@example.com', email: 'vera@example.com', displayName: 'Vera Lynn', externalId: nameId });
    expect(after.groups).toEqual([]);
    expect((await api('directory', 'GET', `/api/v1/users?q=${nameId}`)).body.items).toEqual([]); // nobody named by the NameID
    expect((await session(bare.browser)).body).toMatchObject({ user: { username: 'vera@example.com', email: 'vera@example.com' }, groups: [] });

    const trace = await lastTrace();
    expect(trace).toMatchObject({ status: 'succeeded', subject: nameId, attributes: {} });
    // What the login did not carry, each named; not the groups, which are authoritative (no attribute: no managed group).
    const absent = trace.steps.find((s: { step: string }) => s.step === 'provisioning.claims-absent')?.detail ?? '';
    expect([...absent.matchAll(/claim_absent (\w+):/g)].map((m: RegExpMatchArray) => m[1])).toEqual(['username', 'email', 'displayName']);
  });
});
