import { X509Certificate } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import type { CacheItem } from '@node-saml/node-saml';
import { readAssertion } from '@bridgekeeper/saml-assertion';
import {
  buildEncryptedResponse,
  buildSignedResponse,
  EncryptionOptions,
  ENCRYPTION,
  ResponseOptions,
  tamperEncryptedContent,
  TestIdpKeys,
  toBase64,
  withEncryptedContent,
} from '@bridgekeeper/testing';
import {
  DECRYPTION_FAILED,
  generateSigningKeyPair,
  MAX_XML_DEPTH,
  MAX_XML_ELEMENTS,
  RequestIdStore,
  SamlServiceProvider,
  SamlValidationError,
  SamlValidationPool,
} from './index';

/** node-saml's request-id store, in memory for this test (auth keeps it in its database). */
class MemoryStore implements RequestIdStore {
  readonly items = new Map<string, CacheItem>();
  async saveAsync(key: string, value: string) {
    const item = { value, createdAt: Date.now() };
    this.items.set(key, item);
    return item;
  }
  async getAsync(key: string) {
    return this.items.get(key)?.value ?? null;
  }
  async consume(key: string) {
    return this.items.delete(key);
  }
  async removeAsync(key: string | null) {
    return key && this.items.delete(key) ? key : null;
  }
}

const IDP = 'https://idp.example.com/realms/test';
const der = (pem: string) => pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');

describe('SamlServiceProvider: the checks Bridgekeeper adds to node-saml', () => {
  let idpKeys: TestIdpKeys;
  let foreignKeys: TestIdpKeys;
  let store: MemoryStore;
  let sp: SamlServiceProvider;

  beforeAll(async () => {
    [idpKeys, foreignKeys] = await Promise.all([generateSigningKeyPair('test idp'), generateSigningKeyPair('someone else')]);
  });

  /** A service provider for the test IdP, trusting `trusted` (the IdP's own key by default). */
  async function makeSp(
    over: {
      trusted?: TestIdpKeys[];
      allowIdpInitiated?: boolean;
      encryption?: TestIdpKeys;
      otherDecryption?: TestIdpKeys[];
      allowCbcEncryption?: boolean;
      maxAssertionAgeMs?: number;
    } = {},
  ): Promise<SamlServiceProvider> {
    const spKey = await generateSigningKeyPair('sp');
    return new SamlServiceProvider({
      idpId: 'test',
      publicUrl: 'https://bk.example.com',
      idp: {
        entityId: IDP,
        ssoRedirectUrl: `${IDP}/protocol/saml`,
        signingCertificates: (over.trusted ?? [idpKeys]).map((k) => der(k.certificatePem)),
        wantAuthnRequestsSigned: true,
      },
      signingKey: spKey.privateKeyPem,
      signingCert: spKey.certificatePem,
      binding: 'HTTP-Redirect',
      clockSkewMs: 5000,
      requestTtlMs: 600_000,
      requestStore: store,
      allowIdpInitiated: over.allowIdpInitiated,
      encryptionKey: over.encryption?.privateKeyPem,
      encryptionCert: over.encryption?.certificatePem,
      otherDecryptionKeys: over.otherDecryption?.map((k) => k.privateKeyPem),
      allowCbcEncryption: over.allowCbcEncryption,
      maxAssertionAgeMs: over.maxAssertionAgeMs,
    });
  }

  beforeEach(async () => {
    store = new MemoryStore();
    sp = await makeSp();
  });

  /** Starts a login (an outstanding AuthnRequest) and answers it with a response built from `over`. */
  async function answer(over: Partial<ResponseOptions> = {}): Promise<string> {
    const request = await sp.authnRequest('relay');
    if (request.kind !== 'redirect') throw new Error('expected the Redirect binding');
    const url = new URL(request.url);
    expect(url.searchParams.get('SigAlg')).toBe('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
    expect(url.searchParams.get('Signature')).toBeTruthy();
    const requestId = request.requestId;
    expect(store.items.has(requestId)).toBe(true);
    return toBase64(
      buildSignedResponse({
        idpEntityId: IDP,
        spEntityId: sp.urls.entityId,
        acsUrl: sp.urls.acs,
        inResponseTo: requestId,
        attributes: { email: ['alice@example.com'], groups: ['/staff'] },
        keys: idpKeys,
        ...over,
      }),
    );
  }

  async function refusal(response: string): Promise<string> {
    try {
      await sp.validatePostResponse(response);
    } catch (err) {
      if (err instanceof SamlValidationError) return err.code;
      throw err;
    }
    throw new Error('the response was accepted');
  }

  it('accepts a correct response once, with its attributes', async () => {
    const response = await answer();
    const login = await sp.validatePostResponse(response);
    expect(login).toMatchObject({ nameId: 'alice', issuer: IDP, attributes: { email: ['alice@example.com'], groups: ['/staff'] } });
    expect(login.assertionId).toMatch(/^_a/);
    // The request id is consumed: the same response cannot log in again.
    expect(await refusal(response)).toBe('in_response_to');
  });

  it.each<[string, Partial<ResponseOptions>, string]>([
    ['a Destination other than this ACS', { destination: 'https://other.example.com/saml/test/acs' }, 'destination'],
    ['no Destination', { destination: null }, 'destination'],
    ['a Recipient other than this ACS', { recipient: 'https://other.example.com/acs' }, 'recipient'],
    ['no Recipient', { recipient: null }, 'recipient'],
    ['another issuer', { issuer: 'https://evil.example.com' }, 'issuer'],
    ['an expired assertion', { now: new Date(Date.now() - 3_600_000), validForMs: 60_000 }, 'expired'],
    ['a not-yet-valid assertion', { notBefore: new Date(Date.now() + 3_600_000) }, 'expired'],
    ['another audience', { spEntityId: 'https://other-sp.example.com' }, 'audience'],
    ['no signature at all', { signAssertion: false }, 'signature'],
    ['only the response signed, not the assertion', { signAssertion: false, signResponse: true }, 'signature'],
    ['a signature by another key', { keys: undefined as never }, 'signature'],
    ['an RSA-SHA1 signature', { signatureAlgorithm: 'rsa-sha1' }, 'algorithm'],
    ['a SHA-1 digest', { digestAlgorithm: 'sha1' }, 'algorithm'],
    ['an unknown InResponseTo', { inResponseTo: '_never-sent' }, 'in_response_to'],
    ['no InResponseTo (unsolicited)', { inResponseTo: undefined }, 'in_response_to'],
  ])('refuses %s', async (_case, over, code) => {
    const options = over.keys === undefined && 'keys' in over ? { ...over, keys: foreignKeys } : over;
    expect(await refusal(await answer(options))).toBe(code);
  });

  it('says which signature problem it is: no assertion signature, a key the configuration does not trust, or an altered assertion', async () => {
    const reason = async (response: string) =>
      sp.validatePostResponse(response).then(
        () => 'accepted',
        (err: Error) => err.message,
      );
    expect(await reason(await answer({ signAssertion: false, signResponse: true }))).toMatch(
      /^the assertion is not signed \(only the Response is\)[\s\S]*turn on assertion signing at the IdP/,
    );
    expect(await reason(await answer({ signAssertion: false }))).toMatch(/^the assertion is not signed; [\s\S]*turn on assertion signing/);
    const foreign = await reason(await answer({ keys: foreignKeys }));
    expect(foreign).toContain(
      `signed with a key this IdP's configuration does not trust: its KeyInfo names a certificate with fingerprint SHA-256 ${new X509Certificate(foreignKeys.certificatePem).fingerprint256} (unverified: whoever sent the response chose it`,
    );
    expect(foreign).toContain(`the configuration trusts ${new X509Certificate(idpKeys.certificatePem).fingerprint256}`);
    const altered = Buffer.from(await answer(), 'base64')
      .toString('utf8')
      .replace('alice@example.com', 'root@example.com');
    expect(await reason(toBase64(altered))).toMatch(
      /^the assertion's signature does not verify with the certificate this IdP's configuration trusts[\s\S]*altered after signing/,
    );
  });

  it('keeps every value of an attribute the IdP sends as several elements', async () => {
    const login = await sp.validatePostResponse(
      await answer({
        attributes: [
          ['groups', ['/a']],
          ['email', ['alice@example.com']],
          ['groups', ['/b', '/c']],
        ],
      }),
    );
    expect(login.attributes).toEqual({ groups: ['/a', '/b', '/c'], email: ['alice@example.com'] });
  });

  it('keys the login on the NameID exactly as the mapping simulator reads it, whitespace and all', async () => {
    const response = await answer({ nameId: '  padded-id\n' });
    const login = await sp.validatePostResponse(response);
    expect(login.nameId).toBe('  padded-id\n');
    expect(readAssertion(Buffer.from(response, 'base64').toString('utf8')).nameId).toBe(login.nameId);
  });

  it('accepts an unsolicited response only when IdP-initiated login is on, with every other check', async () => {
    const idpInitiated = await makeSp({ allowIdpInitiated: true });
    const unsolicited = (over: Partial<ResponseOptions> = {}) =>
      toBase64(buildSignedResponse({ idpEntityId: IDP, spEntityId: idpInitiated.urls.entityId, acsUrl: idpInitiated.urls.acs, keys: idpKeys, ...over }));
    expect((await idpInitiated.validatePostResponse(unsolicited())).nameId).toBe('alice');
    await expect(idpInitiated.validatePostResponse(unsolicited({ destination: 'https://evil.example.com/acs' }))).rejects.toMatchObject({
      code: 'destination',
    });
    await expect(idpInitiated.validatePostResponse(unsolicited({ signAssertion: false }))).rejects.toMatchObject({ code: 'signature' });
    await expect(idpInitiated.validatePostResponse(unsolicited({ inResponseTo: '_never-sent' }))).rejects.toMatchObject({ code: 'in_response_to' });
    expect(await refusal(unsolicited())).toBe('in_response_to'); // the default SP refuses it
  });

  it('accepts either IdP signing certificate during a key rollover', async () => {
    const rollover = await makeSp({ trusted: [foreignKeys, idpKeys], allowIdpInitiated: true });
    for (const keys of [idpKeys, foreignKeys]) {
      const response = toBase64(buildSignedResponse({ idpEntityId: IDP, spEntityId: rollover.urls.entityId, acsUrl: rollover.urls.acs, keys }));
      expect((await rollover.validatePostResponse(response)).nameId).toBe('alice');
    }
  });

  it('takes the request a response answers from the signed assertion only; the Response element may agree, never stand in for it', async () => {
    // Anyone holding an unsolicited (IdP-initiated) assertion could write InResponseTo on the
    // Response element, whose signature is not what is verified here: it is not trusted alone.
    const onlyOnResponse = await answer({ subjectInResponseTo: null });
    await expect(sp.validatePostResponse(onlyOnResponse)).rejects.toMatchObject({
      code: 'in_response_to',
      message: expect.stringContaining('signed assertion'),
    });
    const idpInitiated = await makeSp({ allowIdpInitiated: true });
    const request = await idpInitiated.authnRequest('relay', { remember: false });
    const borrowed = toBase64(
      buildSignedResponse({
        idpEntityId: IDP,
        spEntityId: idpInitiated.urls.entityId,
        acsUrl: idpInitiated.urls.acs,
        keys: idpKeys,
        inResponseTo: request.requestId,
        subjectInResponseTo: null,
      }),
    );
    const login = await idpInitiated.verifyPostResponse(borrowed);
    expect(() => idpInitiated.checkInResponseTo(login, request.requestId)).toThrow(expect.objectContaining({ code: 'in_response_to' }));
    expect(await refusal(await answer({ subjectInResponseTo: '_another-request' }))).toBe('in_response_to');
  });

  it("binds the answer to this browser's login: another request's id, or none started here, is refused", async () => {
    const mine = await sp.authnRequest('relay-1');
    const theirs = await answer(); // answers the request started just now, by "another browser"
    const login = await sp.verifyPostResponse(theirs);
    await expect(sp.consumeInResponseTo(login, mine.requestId)).rejects.toMatchObject({
      code: 'in_response_to',
      message: expect.stringContaining("another browser's request"),
    });
    const stray = await sp.verifyPostResponse(await answer());
    await expect(sp.consumeInResponseTo(stray, null)).rejects.toMatchObject({ code: 'in_response_to', message: expect.stringContaining('did not start') });
  });

  it('checks the answer against a one-time record the caller keeps, without the shared store (remember: false)', async () => {
    const mine = await sp.authnRequest('relay-own', { remember: false });
    expect(store.items.has(mine.requestId)).toBe(false);
    const respond = (over: Partial<ResponseOptions> = {}) =>
      toBase64(
        buildSignedResponse({ idpEntityId: IDP, spEntityId: sp.urls.entityId, acsUrl: sp.urls.acs, inResponseTo: mine.requestId, keys: idpKeys, ...over }),
      );
    const login = await sp.verifyPostResponse(respond());
    expect(() => sp.checkInResponseTo(login, mine.requestId)).not.toThrow();
    // The record already taken (or never there): null, whatever the response says.
    expect(() => sp.checkInResponseTo(login, null)).toThrow(
      expect.objectContaining({ code: 'in_response_to', message: expect.stringContaining('no login in progress in this browser') }),
    );
    // Another login's record.
    expect(() => sp.checkInResponseTo(login, '_someone-elses-request')).toThrow(
      expect.objectContaining({ code: 'in_response_to', message: expect.stringContaining("another browser's request") }),
    );
    // The two InResponseTo values must agree; the signed assertion's is the one that counts.
    const disagreeing = await sp.verifyPostResponse(respond({ subjectInResponseTo: '_another-request' }));
    expect(() => sp.checkInResponseTo(disagreeing, mine.requestId)).toThrow(
      expect.objectContaining({ code: 'in_response_to', message: expect.stringContaining('but its assertion answers') }),
    );
    const onlyOnResponse = await sp.verifyPostResponse(respond({ subjectInResponseTo: null }));
    expect(() => sp.checkInResponseTo(onlyOnResponse, mine.requestId)).toThrow(
      expect.objectContaining({ code: 'in_response_to', message: expect.stringContaining('signed assertion') }),
    );
    const onlyOnAssertion = await sp.verifyPostResponse(respond({ inResponseTo: undefined, subjectInResponseTo: mine.requestId }));
    expect(() => sp.checkInResponseTo(onlyOnAssertion, mine.requestId)).not.toThrow();
    // No InResponseTo: refused unless IdP-initiated login is on and no login was started.
    const unsolicited = await sp.verifyPostResponse(respond({ inResponseTo: undefined }));
    expect(() => sp.checkInResponseTo(unsolicited, null)).toThrow(
      expect.objectContaining({ code: 'in_response_to', message: expect.stringContaining('unsolicited') }),
    );
    const idpInitiated = await makeSp({ allowIdpInitiated: true });
    expect(() => idpInitiated.checkInResponseTo(unsolicited, null)).not.toThrow();
    expect(() => idpInitiated.checkInResponseTo(unsolicited, mine.requestId)).toThrow(expect.objectContaining({ code: 'in_response_to' }));
  });

  it('verifies through the validation pool with the same refusals (inline here; worker threads in the built services)', async () => {
    const pool = new SamlValidationPool(0);
    expect((await pool.verify(sp, await answer())).nameId).toBe('alice');
    await expect(pool.verify(sp, await answer({ recipient: 'https://other.example.com/acs' }))).rejects.toBeInstanceOf(SamlValidationError);
    await expect(pool.verify(sp, await answer({ recipient: 'https://other.example.com/acs' }))).rejects.toMatchObject({ code: 'recipient' });
    expect(() => new SamlValidationPool(1)).toThrow(/worker .* is missing/);
  });

  it('decrypts assertions encrypted to the active key, or to a key of a rotation in progress; no other', async () => {
    const [active, retired, stranger] = await Promise.all(['active', 'retired', 'stranger'].map((cn) => generateSigningKeyPair(cn)));
    const rotating = await makeSp({ allowIdpInitiated: true, encryption: active, otherDecryption: [retired] });
    const encryptedTo = async (key: TestIdpKeys) =>
      toBase64(
        await buildEncryptedResponse(
          { idpEntityId: IDP, spEntityId: rotating.urls.entityId, acsUrl: rotating.urls.acs, keys: idpKeys, nameId: 'enc-alice' },
          key.certificatePem,
        ),
      );
    expect((await rotating.verifyPostResponse(await encryptedTo(active))).nameId).toBe('enc-alice');
    expect((await rotating.verifyPostResponse(await encryptedTo(retired))).nameId).toBe('enc-alice');
    await expect(rotating.verifyPostResponse(await encryptedTo(stranger))).rejects.toBeInstanceOf(SamlValidationError);
    const sha1Inside = await buildEncryptedResponse(
      { idpEntityId: IDP, spEntityId: rotating.urls.entityId, acsUrl: rotating.urls.acs, keys: idpKeys, signatureAlgorithm: 'rsa-sha1' },
      active.certificatePem,
    );
    await expect(rotating.verifyPostResponse(toBase64(sha1Inside))).rejects.toMatchObject({ code: 'algorithm' }); // seen once decrypted
    // RSA 1.5 key transport (Bleichenbacher) is refused, which node-saml alone would accept.
    const rsa15 = await buildEncryptedResponse(
      { idpEntityId: IDP, spEntityId: rotating.urls.entityId, acsUrl: rotating.urls.acs, keys: idpKeys },
      active.certificatePem,
      { keyTransport: 'rsa-1_5' },
    );
    await expect(rotating.verifyPostResponse(toBase64(rsa15))).rejects.toMatchObject({ code: 'algorithm' });
    const settled = await makeSp({ allowIdpInitiated: true, encryption: active });
    await expect(settled.verifyPostResponse(await encryptedTo(retired))).rejects.toBeInstanceOf(SamlValidationError);
  });

  /** What verification says about a response: the NameID it accepted, or the refusal's code and message. */
  async function outcome(target: SamlServiceProvider, xml: string): Promise<string | { code: string; message: string }> {
    try {
      return (await target.verifyPostResponse(toBase64(xml))).nameId;
    } catch (err) {
      if (err instanceof SamlValidationError) return { code: err.code, message: err.message };
      throw err;
    }
  }

  describe('encrypted assertions: AES-GCM only unless the IdP allows CBC, and every decryption failure alike', () => {
    let encryptionKeys: TestIdpKeys;
    let stranger: TestIdpKeys;
    beforeAll(async () => {
      [encryptionKeys, stranger] = await Promise.all([generateSigningKeyPair('sp encryption'), generateSigningKeyPair('stranger')]);
    });
    const gcmOnly = () => makeSp({ encryption: encryptionKeys });
    const cbcAllowed = () => makeSp({ encryption: encryptionKeys, allowCbcEncryption: true });
    const encrypted = (target: SamlServiceProvider, enc: EncryptionOptions = {}, to: TestIdpKeys = encryptionKeys) =>
      buildEncryptedResponse(
        { idpEntityId: IDP, spEntityId: target.urls.entityId, acsUrl: target.urls.acs, keys: idpKeys, nameId: 'enc-alice' },
        to.certificatePem,
        enc,
      );
    const refused = (code: string) => expect.objectContaining({ code });

    it('accepts AES-128-GCM and AES-256-GCM', async () => {
      const target = await gcmOnly();
      expect(await outcome(target, await encrypted(target, { content: 'aes128-gcm' }))).toBe('enc-alice');
      expect(await outcome(target, await encrypted(target, { content: 'aes256-gcm' }))).toBe('enc-alice');
    });

    it('refuses AES-CBC as `algorithm`, decided before any key is used, and accepts it only where the IdP allows it', async () => {
      const target = await gcmOnly();
      for (const content of ['aes128-cbc', 'aes256-cbc'] as const)
        expect(await outcome(target, await encrypted(target, { content }))).toEqual(refused('algorithm'));
      // A service provider with no decryption key at all still answers `algorithm`: no key was needed to decide.
      const keyless = await makeSp();
      expect(await outcome(keyless, await encrypted(keyless, { content: 'aes128-cbc' }))).toEqual(refused('algorithm'));
      const optedIn = await cbcAllowed();
      for (const content of ['aes128-cbc', 'aes256-cbc', 'aes256-gcm'] as const)
        expect(await outcome(optedIn, await encrypted(optedIn, { content }))).toBe('enc-alice');
    });

    it('refuses any other content or key algorithm, wherever an EncryptionMethod names it; allowed ones node-saml cannot open are `unsupported`', async () => {
      const target = await cbcAllowed();
      const xml = await encrypted(target);
      const swapped = (from: string, to: string) => {
        expect(xml).toContain(`Algorithm="${from}"`);
        return xml.replace(`Algorithm="${from}"`, `Algorithm="${to}"`);
      };
      expect(await outcome(target, swapped(ENCRYPTION['aes256-gcm'], 'http://www.w3.org/2001/04/xmlenc#tripledes-cbc'))).toEqual(refused('algorithm'));
      expect(await outcome(target, swapped(ENCRYPTION['rsa-oaep-mgf1p'], ENCRYPTION['rsa-1_5']))).toEqual(refused('algorithm'));
      expect(await outcome(target, await encrypted(target, { keyTransport: 'rsa-1_5' }))).toEqual(refused('algorithm'));
      // A second EncryptionMethod beside the one xml-encryption would read.
      const second = xml.replace(/(<xenc:EncryptionMethod Algorithm="[^"]+" \/>)/, `$1<xenc:EncryptionMethod Algorithm="${ENCRYPTION['aes128-cbc']}"/>`);
      expect(await outcome(await gcmOnly(), second)).toEqual(refused('algorithm'));
      expect(await outcome(target, swapped(ENCRYPTION['aes256-gcm'], 'http://www.w3.org/2009/xmlenc11#aes192-gcm'))).toEqual(refused('unsupported'));
      expect(await outcome(target, swapped(ENCRYPTION['rsa-oaep-mgf1p'], 'http://www.w3.org/2009/xmlenc11#rsa-oaep'))).toEqual(refused('unsupported'));
    });

    it('answers every decryption failure with one code and one message: bad padding, malformed plaintext, wrong key, altered GCM, garbage', async () => {
      const target = await cbcAllowed();
      const cbc = await encrypted(target, { content: 'aes128-cbc' });
      const gcm = await encrypted(target);
      // IV, then blocks C1..Cn: flipping a bit of C(n-1) flips the same bit of the last plaintext block (the padding) and garbles C(n-1)'s own.
      const lastByteOfSecondToLast = (b: Buffer) => b.length - 17;
      const cases: Record<string, string> = {
        'bad CBC padding': tamperEncryptedContent(cbc, (b) => void (b[lastByteOfSecondToLast(b)] ^= 0x80)),
        'malformed CBC plaintext with its padding intact': tamperEncryptedContent(cbc, (b) => void (b[b.length - 32] ^= 0x01)),
        'a CBC ciphertext cut short of a block': tamperEncryptedContent(cbc, (b) => b.subarray(0, b.length - 5)),
        'encrypted to another key': await encrypted(target, {}, stranger),
        'a GCM ciphertext altered': tamperEncryptedContent(gcm, (b) => void (b[20] ^= 0x01)),
        'a GCM ciphertext without its tag': tamperEncryptedContent(gcm, (b) => b.subarray(0, 20)),
        'garbage encrypted properly': await withEncryptedContent(gcm, 'definitely not XML \u0000\u00ff', encryptionKeys.certificatePem),
        'garbage encrypted properly with CBC': await withEncryptedContent(gcm, '<saml:Assertion', encryptionKeys.certificatePem, { content: 'aes128-cbc' }),
        'well-formed XML that is no assertion': await withEncryptedContent(
          gcm,
          '<saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">x</saml:Issuer>',
          encryptionKeys.certificatePem,
        ),
        'an assertion deeper than the limit': await withEncryptedContent(
          gcm,
          `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">${'<n>'.repeat(MAX_XML_DEPTH)}${'</n>'.repeat(MAX_XML_DEPTH)}</saml:Assertion>`,
          encryptionKeys.certificatePem,
        ),
      };
      const outcomes = await Promise.all(Object.entries(cases).map(async ([name, xml]) => [name, await outcome(target, xml)] as const));
      for (const [name, result] of outcomes) expect([name, result]).toEqual([name, { code: 'decryption', message: DECRYPTION_FAILED }]);
      expect(DECRYPTION_FAILED).not.toMatch(/padding|callback|XML|authenticate|key length/i);
    });

    it('refuses a comment inside the encrypted assertion, as in a plain one', async () => {
      const target = await gcmOnly();
      const signed = buildSignedResponse({ idpEntityId: IDP, spEntityId: target.urls.entityId, acsUrl: target.urls.acs, keys: idpKeys, nameId: 'admin.evil' });
      const assertion = /<saml:Assertion[\s\S]*<\/saml:Assertion>/
        .exec(signed)![0]
        .replace('<saml:Assertion ', '<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ');
      const xml = await withEncryptedContent(await encrypted(target), assertion.replace('>admin.evil<', '>admin<!---->.evil<'), encryptionKeys.certificatePem);
      expect(await outcome(target, xml)).toEqual(refused('malformed'));
    });
  });

  describe('size limits, before any signature is checked', () => {
    const withExtensions = (xml: string, inner: string) => xml.replace('<samlp:Status>', `<samlp:Extensions>${inner}</samlp:Extensions><samlp:Status>`);
    const signedXml = async () => Buffer.from(await answer(), 'base64').toString('utf8');
    const nested = (levels: number) => `${'<n>'.repeat(levels)}${'</n>'.repeat(levels)}`;

    it(`refuses a response nested deeper than ${MAX_XML_DEPTH} levels, and accepts a generous depth`, async () => {
      expect(await outcome(sp, withExtensions(await signedXml(), nested(MAX_XML_DEPTH)))).toEqual({
        code: 'too_large',
        message: expect.stringContaining('levels deep'),
      });
      expect(await outcome(sp, withExtensions(await signedXml(), nested(MAX_XML_DEPTH - 8)))).toBe('alice');
    });

    it(`refuses a response with more than ${MAX_XML_ELEMENTS} elements, and accepts a generous count`, async () => {
      expect(await outcome(sp, withExtensions(await signedXml(), '<e/>'.repeat(MAX_XML_ELEMENTS)))).toEqual({
        code: 'too_large',
        message: expect.stringContaining('elements'),
      });
      expect(await outcome(sp, withExtensions(await signedXml(), '<e a="/>"></e>'.repeat(MAX_XML_ELEMENTS / 2)))).toBe('alice');
    });

    it('refuses deep logout messages, POST and Redirect, before anything else looks at them', async () => {
      const deep = `<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_l" Version="2.0">${nested(MAX_XML_DEPTH)}</samlp:LogoutRequest>`;
      await expect(sp.validateLogout('post', { SAMLRequest: toBase64(deep) }, '')).rejects.toMatchObject({ code: 'too_large' });
      const params = { SAMLRequest: deflateRawSync(deep).toString('base64'), Signature: 'x', SigAlg: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256' };
      await expect(sp.validateLogout('redirect', params, '')).rejects.toMatchObject({ code: 'too_large' });
    });
  });

  describe('maximum assertion age (IssueInstant)', () => {
    const minutes = (n: number) => new Date(Date.now() + n * 60_000);
    const issued = (target: SamlServiceProvider, over: Partial<ResponseOptions>) =>
      buildSignedResponse({ idpEntityId: IDP, spEntityId: target.urls.entityId, acsUrl: target.urls.acs, keys: idpKeys, validForMs: 3_600_000, ...over });

    it('refuses an assertion issued longer ago than the maximum age (the request lifetime by default), still inside its validity', async () => {
      expect(await outcome(sp, issued(sp, { now: minutes(-9) }))).toBe('alice');
      expect(await outcome(sp, issued(sp, { now: minutes(-11) }))).toEqual({
        code: 'too_old',
        message: expect.stringContaining('maximum assertion age 600 s'),
      });
      const strict = await makeSp({ maxAssertionAgeMs: 60_000 });
      expect(await outcome(strict, issued(strict, { now: minutes(-2) }))).toEqual(expect.objectContaining({ code: 'too_old' }));
      expect(await outcome(strict, issued(strict, { now: minutes(-0.5) }))).toBe('alice');
    });

    it("checks the Response's IssueInstant too", async () => {
      const xml = issued(sp, {});
      const responseIssued = /<samlp:Response [^>]*IssueInstant="([^"]+)"/.exec(xml)![1];
      const old = xml.replace(`IssueInstant="${responseIssued}"`, `IssueInstant="${minutes(-30).toISOString()}"`);
      expect(await outcome(sp, old)).toEqual({ code: 'too_old', message: expect.stringContaining('the response was issued') });
      expect(await outcome(sp, xml.replace(`IssueInstant="${responseIssued}"`, 'IssueInstant="yesterday"'))).toEqual(
        expect.objectContaining({ code: 'malformed' }),
      );
    });

    it('refuses an assertion issued in the future beyond the clock skew, with its own reason', async () => {
      expect(await outcome(sp, issued(sp, { now: minutes(10), notBefore: minutes(-1) }))).toEqual(expect.objectContaining({ code: 'issued_in_future' }));
      expect(await outcome(sp, issued(sp, { now: new Date(Date.now() + 3000), notBefore: minutes(-1) }))).toBe('alice'); // inside the 5 s skew
    });
  });

  it('refuses a response altered after signing', async () => {
    const xml = Buffer.from(await answer(), 'base64')
      .toString('utf8')
      .replace('alice@example.com', 'root@example.com');
    expect(await refusal(toBase64(xml))).toBe('signature');
  });

  it('with the Response signed too (as Keycloak does), the assertion signature is the one that counts', async () => {
    await expect(sp.validatePostResponse(await answer({ signResponse: true }))).resolves.toMatchObject({ nameId: 'alice' });
    const signedTwice = async () => Buffer.from(await answer({ signResponse: true }), 'base64').toString('utf8');
    // The assertion altered: refused, whatever the Response signature says.
    expect(await refusal(toBase64((await signedTwice()).replace('alice@example.com', 'root@example.com')))).toBe('signature');
    // Only the Response signed: refused (assertions must be signed).
    expect(await refusal(await answer({ signResponse: true, signAssertion: false }))).toBe('signature');
    // A broken Response signature over a correctly signed assertion changes nothing (node-saml's answer, kept).
    const broken = (await signedTwice()).replace(/(<ds:SignatureValue>)([A-Za-z0-9+/])/, (_m, tag: string, c: string) => `${tag}${c === 'A' ? 'B' : 'A'}`);
    await expect(sp.validatePostResponse(toBase64(broken))).resolves.toMatchObject({ nameId: 'alice' });
    // A Response signature whose reference points elsewhere than the Response is still refused.
    const xml = await signedTwice();
    const responseId = /<samlp:Response[^>]* ID="([^"]+)"/.exec(xml)![1];
    const assertionId = /<saml:Assertion[^>]* ID="([^"]+)"/.exec(xml)![1];
    expect(await refusal(toBase64(xml.replace(`URI="#${responseId}"`, `URI="#${assertionId}"`)))).toBeTruthy();
  });

  it('refuses a second, unsigned assertion slipped next to the signed one (signature wrapping)', async () => {
    const xml = Buffer.from(await answer(), 'base64').toString('utf8');
    const evil = `<saml:Assertion ID="_evil" Version="2.0" IssueInstant="${new Date().toISOString()}"><saml:Issuer>${IDP}</saml:Issuer><saml:Subject><saml:NameID>admin</saml:NameID></saml:Subject></saml:Assertion>`;
    expect(await refusal(toBase64(xml.replace('<samlp:Status>', `${evil}<samlp:Status>`)))).toBe('malformed');
  });

  describe('the signature core: what any verifier here must refuse', () => {
    const signedXml = async (over: Partial<ResponseOptions> = {}) => Buffer.from(await answer(over), 'base64').toString('utf8');
    const assertionIdOf = (xml: string) => /<saml:Assertion[^>]* ID="([^"]+)"/.exec(xml)![1];
    const before = (xml: string, marker: string, insert: string) => {
      expect(xml).toContain(marker);
      return xml.replace(marker, `${insert}${marker}`);
    };

    it.each(['ID', 'Id', 'id'])("refuses another element carrying the signed assertion's id as %s (wrapping by a duplicate id)", async (attr) => {
      const xml = await signedXml();
      const copy = `<samlp:Extensions><x:Copy xmlns:x="urn:example:x" ${attr}="${assertionIdOf(xml)}"/></samlp:Extensions>`;
      expect(await refusal(toBase64(before(xml, '<samlp:Status>', copy)))).toBe('signature');
    });

    // node-saml's own count (`//*[@ID="…"]`) sees any unprefixed ID, Id, id or iD (xpath matches
    // names without regard to case in xmldom's documents); a prefixed attribute or a namespace
    // declaration carrying the id is counted by xml-crypto's reference lookup only (the patched walk).
    const copyPlaces: [string, (xml: string, copy: string) => string][] = [
      ['in Extensions, before the assertion', (xml, copy) => before(xml, '<samlp:Status>', `<samlp:Extensions>${copy}</samlp:Extensions>`)],
      // enveloped-signature leaves the Signature out of the digest: the assertion still verifies.
      ["inside the assertion's own Signature, in an Object", (xml, copy) => before(xml, '</ds:Signature>', `<ds:Object>${copy}</ds:Object>`)],
      [
        'after the assertion, in a SignatureProperty',
        (xml, copy) => before(xml, '</samlp:Response>', `<ds:SignatureProperty xmlns:ds="http://www.w3.org/2000/09/xmldsig#">${copy}</ds:SignatureProperty>`),
      ],
    ];

    it.each(['x:ID', 'x:Id', 'x:id', 'xmlns:ID'])("refuses another element carrying the signed assertion's id as %s, wherever it sits", async (attr) => {
      for (const [place, insert] of copyPlaces) {
        const xml = await signedXml();
        const copy = `<x:Copy xmlns:x="urn:example:x" ${attr}="${assertionIdOf(xml)}"/>`;
        expect([place, await refusal(toBase64(insert(xml, copy)))]).toEqual([place, 'signature']);
      }
    });

    it('accepts the same copies where the value only looks like the id (the refusals above are for the id)', async () => {
      for (const [place, insert] of copyPlaces) {
        const xml = await signedXml();
        const copy = `<x:Copy xmlns:x="urn:example:x" x:ID="${assertionIdOf(xml)} " xmlns:Id=" ${assertionIdOf(xml)}"/>`;
        await expect(sp.validatePostResponse(toBase64(insert(xml, copy))).then((login) => [place, login.nameId])).resolves.toEqual([place, 'alice']);
      }
    });

    it("refuses a forged assertion in another namespace under the signed one's id, the signed one moved into Extensions", async () => {
      for (const forgedFirst of [false, true]) {
        const xml = await signedXml();
        const signed = /<saml:Assertion[\s\S]*<\/saml:Assertion>/.exec(xml)![0];
        const forged = signed
          .replace('>alice<', '>admin<')
          .replace('<saml:Assertion ', '<evil:Assertion xmlns:evil="urn:example:evil" ')
          .replace(/<\/saml:Assertion>$/, '</evil:Assertion>');
        const aside = xml
          .replace(signed, forgedFirst ? '' : forged)
          .replace('<samlp:Status>', `${forgedFirst ? forged : ''}<samlp:Extensions>${signed}</samlp:Extensions><samlp:Status>`);
        expect(aside).toContain('>admin<');
        expect([forgedFirst, await refusal(toBase64(aside))]).toEqual([forgedFirst, 'signature']);
      }
    });

    it('refuses the signed assertion moved aside with a forged one under the same id in its place', async () => {
      const xml = await signedXml();
      const signed = /<saml:Assertion[\s\S]*<\/saml:Assertion>/.exec(xml)![0];
      const forged = signed.replace('>alice<', '>admin<').replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, '');
      const wrapped = xml.replace(signed, `<samlp:Extensions>${signed}</samlp:Extensions>${forged}`);
      expect(wrapped).toContain('>admin<');
      expect(await refusal(toBase64(wrapped))).toBe('malformed');
    });

    it("refuses the assertion's signature moved up to the Response (the assertion is then unsigned)", async () => {
      const xml = await signedXml();
      const signature = /<ds:Signature[\s\S]*<\/ds:Signature>/.exec(xml)![0];
      const moved = xml.replace(signature, '').replace('<samlp:Status>', `${signature}<samlp:Status>`);
      expect(await refusal(toBase64(moved))).toBe('signature');
    });

    it('refuses a signature whose reference names another element than the assertion it sits in', async () => {
      const xml = await signedXml({ signResponse: true });
      const responseId = /<samlp:Response[^>]* ID="([^"]+)"/.exec(xml)![1];
      const assertionId = assertionIdOf(xml);
      // Both references then name the Response: nothing signs the assertion.
      expect(await refusal(toBase64(xml.replace(`URI="#${assertionId}"`, `URI="#${responseId}"`)))).toBe('signature');
    });

    it('refuses an assertion signed through more transforms than enveloped-signature and exclusive c14n', async () => {
      const enveloped = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
      const excC14n = 'http://www.w3.org/2001/10/xml-exc-c14n#';
      // Signed this way for real: only the transform list is what is wrong.
      await expect(sp.validatePostResponse(await answer({ transforms: [enveloped, excC14n] }))).resolves.toMatchObject({ nameId: 'alice' });
      expect(await refusal(await answer({ transforms: [enveloped, excC14n, excC14n] }))).toBe('signature');
    });

    it('refuses an empty signature value, and a KeyInfo naming the IdP certificate over another key', async () => {
      const emptied = (await signedXml()).replace(/<ds:SignatureValue>[^<]*<\/ds:SignatureValue>/, '<ds:SignatureValue></ds:SignatureValue>');
      expect(await refusal(toBase64(emptied))).toBe('signature');
      const foreign = await signedXml({ keys: foreignKeys });
      const certificate = (pem: string) => pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
      const claimed = foreign.replace(certificate(foreignKeys.certificatePem), certificate(idpKeys.certificatePem));
      expect(claimed).toContain(certificate(idpKeys.certificatePem));
      expect(await refusal(toBase64(claimed))).toBe('signature');
    });
  });

  it('refuses a comment slipped into the NameID, which the signature does not cover', async () => {
    // Signed as `admin.evil`; the comment is added after signing (exclusive c14n ignores comments).
    const xml = Buffer.from(await answer({ nameId: 'admin.evil' }), 'base64')
      .toString('utf8')
      .replace('>admin.evil<', '>admin<!---->.evil<');
    expect(xml).toContain('admin<!---->.evil');
    expect(await refusal(toBase64(xml))).toBe('malformed');
  });

  it('refuses a processing instruction slipped into the NameID (exclusive c14n keeps it, so the digest breaks); CDATA there reads as the value signed', async () => {
    const signed = Buffer.from(await answer({ nameId: 'admin.evil' }), 'base64').toString('utf8');
    expect(await refusal(toBase64(signed.replace('>admin.evil<', '>admin<?x?>.evil<')))).toBe('signature');
    const cdata = Buffer.from(await answer({ nameId: 'admin.evil' }), 'base64')
      .toString('utf8')
      .replace('>admin.evil<', '>admin<![CDATA[.evil]]><');
    expect(cdata).toContain('admin<![CDATA[.evil]]>');
    await expect(sp.validatePostResponse(toBase64(cdata))).resolves.toMatchObject({ nameId: 'admin.evil' });
  });

  it('refuses a DTD before parsing', async () => {
    const xml = Buffer.from(await answer(), 'base64').toString('utf8');
    expect(await refusal(toBase64(`<!DOCTYPE r [<!ENTITY x "y">]>${xml}`))).toBe('dtd_refused');
  });

  it('refuses unsigned, SHA-1 and deflate-bomb logout messages before node-saml sees them', async () => {
    const logout = (over: Record<string, string>) =>
      sp.validateLogout('redirect', { SAMLRequest: deflateRawSync('<samlp:LogoutRequest/>').toString('base64'), ...over }, '');
    await expect(logout({})).rejects.toMatchObject({
      code: 'signature',
      message: expect.stringMatching(/^the LogoutRequest is not signed;[\s\S]*turn on signing of single logout messages/),
    });
    // An unsigned answer to our logout says what it is, in either binding.
    const response = '<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_r" Version="2.0" IssueInstant="2026-01-01T00:00:00Z"/>';
    await expect(sp.validateLogout('redirect', { SAMLResponse: deflateRawSync(response).toString('base64') }, '')).rejects.toMatchObject({
      code: 'signature',
      message: expect.stringMatching(/^the LogoutResponse is not signed/),
    });
    await expect(sp.validateLogout('post', { SAMLResponse: toBase64(response) }, '')).rejects.toMatchObject({
      code: 'signature',
      message: expect.stringMatching(/^the LogoutResponse is not signed/),
    });
    await expect(logout({ Signature: 'x', SigAlg: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1' })).rejects.toMatchObject({ code: 'algorithm' });
    const bomb = deflateRawSync(Buffer.alloc(10 * 1024 * 1024, 'a')).toString('base64');
    expect(bomb.length).toBeLessThan(200_000);
    await expect(logout({ SAMLRequest: bomb, Signature: 'x', SigAlg: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256' })).rejects.toMatchObject({
      code: 'malformed',
    });
  });

  it("holds a logout message's encrypted NameID to the assertion's algorithm policy, and refuses a DTD, before node-saml opens it", async () => {
    const signed = { Signature: 'x', SigAlg: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256' };
    const logout = (xml: string) => sp.validateLogout('redirect', { SAMLRequest: deflateRawSync(xml).toString('base64'), ...signed }, '');
    const encryptedId = (content: string) =>
      `<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_l" Version="2.0" IssueInstant="${new Date().toISOString()}">` +
      `<saml:Issuer>${IDP}</saml:Issuer><saml:EncryptedID><xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#"><xenc:EncryptionMethod Algorithm="${content}"/>` +
      `<ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><xenc:EncryptedKey><xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#rsa-1_5"/><xenc:CipherData><xenc:CipherValue>AA==</xenc:CipherValue></xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo>` +
      `<xenc:CipherData><xenc:CipherValue>AA==</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData></saml:EncryptedID></samlp:LogoutRequest>`;
    await expect(logout(encryptedId('http://www.w3.org/2001/04/xmlenc#aes128-cbc'))).rejects.toMatchObject({ code: 'algorithm' });
    await expect(logout(encryptedId('http://www.w3.org/2009/xmlenc11#aes256-gcm'))).rejects.toMatchObject({
      code: 'algorithm',
      message: expect.stringContaining('RSA-OAEP'),
    });
    await expect(logout(`<!DOCTYPE x [<!ENTITY a "b">]>${encryptedId('x')}`)).rejects.toMatchObject({ code: 'dtd_refused' });
  });

  it('publishes SP metadata with its signing certificate and ACS', () => {
    const xml = sp.metadata();
    expect(xml).toContain(`entityID="${sp.urls.entityId}"`);
    expect(xml).toContain(`Location="${sp.urls.acs}"`);
    expect(xml).toContain('AuthnRequestsSigned="true"');
    expect(xml).toContain('WantAssertionsSigned="true"');
  });
});
