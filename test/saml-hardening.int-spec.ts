import { inflateRawSync } from 'node:zlib';
import { generateSigningKeyPair } from '@bridgekeeper/saml';
import {
  buildEncryptedResponse,
  buildSignedResponse,
  createTestDatabase,
  EncryptionOptions,
  freePort,
  ResponseOptions,
  startNats,
  tamperEncryptedContent,
  TestBrowser,
  TestDatabase,
  TestIdpKeys,
  TestNats,
  toBase64,
  waitFor,
} from '@bridgekeeper/testing';
import { createAdminToken, Stack } from './support/stack';

/**
 * What the assertion consumer service refuses before it trusts a response, on the whole stack
 * (the services from dist/, real NATS, PostgreSQL or the embedded SQLite), with responses this
 * test signs and encrypts as the IdP: AES-GCM only unless the IdP opts in to CBC, every
 * decryption failure alike (status, page and trace reason), the maximum assertion age, and the
 * XML depth and element limits.
 */
describe.each(['postgres', 'sqlite'] as const)('SAML ACS hardening on %s', (engine) => {
  const IDP = 'https://idp.example.com/realms/test';
  const MAX_AGE_S = 120;
  let nats: TestNats;
  let pg: TestDatabase | undefined;
  let stack: Stack;
  let keys: TestIdpKeys;
  let base: string;
  let publicBase: string;
  let admin: string;
  const encryptionCert: Record<string, string> = {};

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };

  beforeAll(async () => {
    nats = await startNats();
    pg = engine === 'postgres' ? await createTestDatabase() : undefined;
    const ports = { auth: await freePort(), directory: await freePort(), provisioning: await freePort() };
    stack = new Stack({ natsUrl: nats.url, databaseUrl: pg?.url, ports, extraEnv: { auth: { AUTH_SAML_MAX_ASSERTION_AGE_S: String(MAX_AGE_S) } } });
    await stack.start();
    base = stack.services.auth.url;
    publicBase = `http://localhost:${ports.auth}`;
    keys = await generateSigningKeyPair('test idp');
    admin = createAdminToken({ DATABASE_URL: pg?.url, DATA_DIR: stack.dataDir });
    const manual = { entityId: IDP, ssoUrl: `${IDP}/protocol/saml`, certificates: [keys.certificatePem] };
    expect(await api('POST', '/api/v1/idps', { id: 'gcm', name: 'GCM only', manual })).toMatchObject({
      status: 201,
      body: { allowCbcEncryption: false, warnings: [] },
    });
    // The opt-in is shown with why it is weak.
    expect(await api('POST', '/api/v1/idps', { id: 'cbc', name: 'CBC allowed', manual, allowCbcEncryption: true })).toMatchObject({
      status: 201,
      body: { allowCbcEncryption: true, warnings: [expect.stringMatching(/allowCbcEncryption[\s\S]*padding-oracle[\s\S]*downgraded/)] },
    });
    // …and logged as a warning, with who set it.
    await waitFor(
      'the CBC opt-in in the log',
      async () => /"level":40[^\n]*identity provider cbc: allowCbcEncryption is on[^\n]*set by/.test(stack.services.auth.output),
      5000,
      100,
    );
    for (const idp of ['gcm', 'cbc']) {
      const metadata = await (await fetch(`${base}/saml/${idp}/metadata`)).text();
      const der = /<KeyDescriptor use="encryption">[\s\S]*?<ds:X509Certificate>([^<]+)<\/ds:X509Certificate>/.exec(metadata)![1].replace(/\s+/g, '');
      encryptionCert[idp] = `-----BEGIN CERTIFICATE-----\n${der.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
    }
  });

  afterAll(async () => {
    await stack?.stop();
    await pg?.drop();
    await nats?.stop();
  });

  /** A login started at /login: its RelayState and the request id its answer must carry. */
  async function startLogin(idp: string, browser: TestBrowser): Promise<{ relayState: string; requestId: string }> {
    const res = await browser.fetch(`${base}/login?idp=${idp}&returnTo=/session`);
    expect(res.status).toBe(302);
    const to = new URL(res.headers.get('location')!);
    const request = inflateRawSync(Buffer.from(to.searchParams.get('SAMLRequest')!, 'base64')).toString('utf8');
    return { relayState: to.searchParams.get('RelayState')!, requestId: /ID="([^"]+)"/.exec(request)![1] };
  }

  const options = (idp: string, requestId: string, over: Partial<ResponseOptions> = {}): ResponseOptions => ({
    keys,
    idpEntityId: IDP,
    spEntityId: `${publicBase}/saml/${idp}/metadata`,
    acsUrl: `${publicBase}/saml/${idp}/acs`,
    inResponseTo: requestId,
    nameId: `user-${crypto.randomUUID().slice(0, 8)}`,
    attributes: { email: ['someone@example.com'] },
    ...over,
  });

  /** Starts a login at `idp` and posts the answer `build` makes for it: the outcome as the browser and the trace see it. */
  async function login(idp: string, build: (requestId: string) => string | Promise<string>) {
    const browser = new TestBrowser();
    const { relayState, requestId } = await startLogin(idp, browser);
    const res = await browser.fetch(`${base}/saml/${idp}/acs`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ SAMLResponse: toBase64(await build(requestId)), RelayState: relayState }),
    });
    const page = await res.text();
    const traceId = /id="trace-id">([^<]+)</.exec(page)?.[1];
    const trace = traceId ? (await api('GET', `/api/v1/login-traces/${traceId}`)).body : undefined;
    return {
      status: res.status,
      location: res.headers.get('location'),
      page: traceId ? page.replace(traceId, '(trace id)') : page,
      reasonCode: trace?.reasonCode,
      reason: trace?.reason,
    };
  }

  const encrypted = (idp: string, enc: EncryptionOptions) => (requestId: string) => buildEncryptedResponse(options(idp, requestId), encryptionCert[idp], enc);

  it('accepts AES-GCM encrypted assertions; refuses AES-CBC unless the IdP opts in, and again once it opts out', async () => {
    expect(await login('gcm', encrypted('gcm', { content: 'aes256-gcm' }))).toMatchObject({ status: 302, location: '/session' });
    expect(await login('gcm', encrypted('gcm', { content: 'aes128-gcm' }))).toMatchObject({ status: 302 });
    expect(await login('gcm', encrypted('gcm', { content: 'aes128-cbc' }))).toMatchObject({
      status: 400,
      reasonCode: 'algorithm',
      reason: expect.stringContaining('AES-CBC'),
    });
    expect(await login('cbc', encrypted('cbc', { content: 'aes128-cbc' }))).toMatchObject({ status: 302, location: '/session' });
    expect(await login('cbc', encrypted('cbc', { content: 'aes256-cbc' }))).toMatchObject({ status: 302 });

    expect(await api('PATCH', '/api/v1/idps/cbc', { allowCbcEncryption: false })).toMatchObject({
      status: 200,
      body: { allowCbcEncryption: false, warnings: [] },
    });
    expect(await login('cbc', encrypted('cbc', { content: 'aes256-cbc' }))).toMatchObject({ status: 400, reasonCode: 'algorithm' });
    expect(await api('PATCH', '/api/v1/idps/cbc', { allowCbcEncryption: true })).toMatchObject({
      status: 200,
      body: { allowCbcEncryption: true, warnings: [expect.any(String)] },
    });
    expect(await login('cbc', encrypted('cbc', { content: 'aes256-cbc' }))).toMatchObject({ status: 302 });
  });

  it('answers bad padding and malformed plaintext alike: same status, same page, same trace reason', async () => {
    const cbc = encrypted('cbc', { content: 'aes128-cbc' });
    // The IV, then blocks C1..Cn. A flipped bit in C(n-1) flips the same bit of the last plaintext
    // block, where the padding length sits, and garbles C(n-1)'s own plaintext block.
    const badPadding = await login('cbc', async (id) => tamperEncryptedContent(await cbc(id), (b) => void (b[b.length - 17] ^= 0x80)));
    const malformed = await login('cbc', async (id) => tamperEncryptedContent(await cbc(id), (b) => void (b[b.length - 32] ^= 0x01)));
    expect(badPadding).toMatchObject({ status: 400, reasonCode: 'decryption' });
    expect(malformed).toEqual(badPadding);
    // One reason, with no library's words in it (xml-encryption's were `callback is not defined` for bad padding).
    expect(badPadding.reason).not.toMatch(/padding|callback|well-formed|ReferenceError|not defined/i);
    // Under GCM an altered ciphertext never decrypts: the same answer again.
    const gcm = encrypted('gcm', { content: 'aes256-gcm' });
    expect(await login('gcm', async (id) => tamperEncryptedContent(await gcm(id), (b) => void (b[20] ^= 0x01)))).toEqual(badPadding);
  });

  it(`refuses a response issued more than AUTH_SAML_MAX_ASSERTION_AGE_S (${MAX_AGE_S} s) ago, or in the future, each with its own reason`, async () => {
    const minutes = (n: number) => new Date(Date.now() + n * 60_000);
    const issued = (now: Date) => (id: string) => buildSignedResponse(options('gcm', id, { now, notBefore: minutes(-10), validForMs: 3_600_000 }));
    expect(await login('gcm', issued(minutes(-1)))).toMatchObject({ status: 302 });
    expect(await login('gcm', issued(minutes(-3)))).toMatchObject({ status: 400, reasonCode: 'too_old' });
    expect(await login('gcm', issued(minutes(5)))).toMatchObject({ status: 400, reasonCode: 'issued_in_future' });
  });

  it('refuses XML nested too deep or with too many elements before checking any signature', async () => {
    const withExtensions = (inner: string) => (id: string) =>
      buildSignedResponse(options('gcm', id)).replace('<samlp:Status>', `<samlp:Extensions>${inner}</samlp:Extensions><samlp:Status>`);
    expect(await login('gcm', withExtensions('<n>'.repeat(20) + '</n>'.repeat(20)))).toMatchObject({ status: 302 });
    expect(await login('gcm', withExtensions('<n>'.repeat(100) + '</n>'.repeat(100)))).toMatchObject({ status: 400, reasonCode: 'too_large' });
    expect(await login('gcm', withExtensions('<e/>'.repeat(20_000)))).toMatchObject({ status: 400, reasonCode: 'too_large' });
  });
});
