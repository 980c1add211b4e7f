/**
 * The login reads the verified assertion once (its attributes from the element the checks parsed,
 * its NameID from node-saml and from that element, which must agree) and the mapping simulator
 * reads a pasted response with the same reader and the same subject rule. These pin both: no
 * signature-wrapping shape gets the attacker's attributes or name in, and for every odd subject
 * (CDATA, references, markup or another namespace in the NameID, no NameID at all) the login and
 * the simulator key the same subject or both refuse. Real crypto and node-saml, no services.
 * (From the attacker review of issue 27's changes.)
 */
import { SignedXml } from 'xml-crypto';
import { keyedLogin, readSamlLogin } from '@bridgekeeper/provisioning-model';
import { buildEncryptedResponse, buildResponseXml, buildSignedResponse, ResponseOptions, TestIdpKeys, toBase64 } from '@bridgekeeper/testing';
import { generateSigningKeyPair, loginSubject, SamlServiceProvider, SamlValidationError } from '@bridgekeeper/saml';

const IDP = 'https://idp.example.com/realms/agreement';
const der = (pem: string) => pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';

/** Signs the element with this ID (enveloped, exc-c14n, RSA-SHA256), the signature after its Issuer. */
function signById(xml: string, id: string, keys: TestIdpKeys): string {
  const sig = new SignedXml({
    privateKey: keys.privateKeyPem,
    publicCert: keys.certificatePem,
    signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    canonicalizationAlgorithm: EXC_C14N,
  });
  sig.addReference({
    xpath: `//*[@ID='${id}']`,
    digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256',
    transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', EXC_C14N],
  });
  sig.computeSignature(xml, { prefix: 'ds', location: { reference: `//*[@ID='${id}']/*[local-name(.)='Issuer']`, action: 'after' } });
  return sig.getSignedXml();
}

describe('one reading of a verified assertion: signature wrapping, and the login and the simulator agreeing on the subject', () => {
  let idpKeys: TestIdpKeys;
  let spKeys: TestIdpKeys;
  let sp: SamlServiceProvider;
  let encSp: SamlServiceProvider;

  beforeAll(async () => {
    [idpKeys, spKeys] = await Promise.all([generateSigningKeyPair('test idp'), generateSigningKeyPair('test sp')]);
    const make = (enc?: TestIdpKeys) =>
      new SamlServiceProvider({
        idpId: 'agreement',
        publicUrl: 'https://bk.example.com',
        idp: { entityId: IDP, ssoRedirectUrl: `${IDP}/protocol/saml`, signingCertificates: [der(idpKeys.certificatePem)], wantAuthnRequestsSigned: true },
        signingKey: spKeys.privateKeyPem,
        signingCert: spKeys.certificatePem,
        binding: 'HTTP-Redirect',
        clockSkewMs: 5000,
        requestTtlMs: 600_000,
        allowIdpInitiated: true,
        encryptionKey: enc?.privateKeyPem,
        encryptionCert: enc?.certificatePem,
      });
    sp = make();
    encSp = make(spKeys);
  });

  const base = (over: Partial<ResponseOptions> = {}): ResponseOptions => ({
    idpEntityId: IDP,
    spEntityId: sp.urls.entityId,
    acsUrl: sp.urls.acs,
    attributes: { email: ['alice@example.com'], role: ['user'] },
    assertionId: `_a${crypto.randomUUID()}`,
    keys: idpKeys,
    ...over,
  });

  /** Accepted: what the login keys and reads; refused: the code. */
  const outcome = async (xml: string, on = sp) =>
    on.verifyPostResponse(toBase64(xml)).then(
      (l) => ({ accepted: true as const, nameId: l.nameId, nameIdFormat: l.nameIdFormat, attributes: l.attributes }),
      (err: Error) => ({ accepted: false as const, code: err instanceof SamlValidationError ? err.code : `NOT-A-SamlValidationError: ${err.message}` }),
    );

  const evilAssertion = (id = '_evil') =>
    `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${id}" Version="2.0" IssueInstant="${new Date().toISOString()}"><saml:Issuer>${IDP}</saml:Issuer><saml:Subject><saml:NameID>root</saml:NameID></saml:Subject><saml:AttributeStatement><saml:Attribute Name="role"><saml:AttributeValue>admin</saml:AttributeValue></saml:Attribute></saml:AttributeStatement></saml:Assertion>`;

  describe("signature wrapping against the single parse: never the attacker's attributes", () => {
    const signed = () => buildSignedResponse(base());
    const cases: [string, (xml: string) => string][] = [
      ['an unsigned Assertion before the signed one', (x) => x.replace('<saml:Assertion ', `${evilAssertion()}<saml:Assertion `)],
      ['an unsigned Assertion after the signed one', (x) => x.replace('</samlp:Response>', `${evilAssertion()}</samlp:Response>`)],
      [
        'an unsigned Assertion in samlp:Extensions',
        (x) => x.replace('<samlp:Status>', `<samlp:Extensions>${evilAssertion()}</samlp:Extensions><samlp:Status>`),
      ],
      [
        'an Assertion in a foreign namespace before the signed one',
        (x) =>
          x.replace(
            '<saml:Assertion ',
            `${evilAssertion()
              .replace(/saml:Assertion/g, 'e:Assertion')
              .replace('xmlns:saml=', 'xmlns:e="urn:evil" xmlns:saml=')}<saml:Assertion `,
          ),
      ],
      [
        'the signed Assertion moved into a foreign wrapper, an evil one in its place',
        (x) => {
          const m = /<saml:Assertion [\s\S]*<\/saml:Assertion>/.exec(x)![0];
          return x.replace(m, `<x:Wrap xmlns:x="urn:x">${m}</x:Wrap>${evilAssertion()}`);
        },
      ],
      [
        "the signed Assertion moved into the evil one's Advice",
        (x) => {
          const m = /<saml:Assertion [\s\S]*<\/saml:Assertion>/.exec(x)![0];
          return x.replace(m, evilAssertion().replace('<saml:Subject>', `<saml:Advice>${m}</saml:Advice><saml:Subject>`));
        },
      ],
      [
        'a second AttributeStatement appended inside the signed assertion',
        (x) =>
          x.replace(
            '</saml:AttributeStatement>',
            '</saml:AttributeStatement><saml:AttributeStatement><saml:Attribute Name="role"><saml:AttributeValue>admin</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>',
          ),
      ],
      [
        'an attribute in a foreign-namespace AttributeStatement inside the signed assertion',
        (x) =>
          x.replace(
            '</saml:AttributeStatement>',
            '</saml:AttributeStatement><e:AttributeStatement xmlns:e="urn:evil"><saml:Attribute Name="role"><saml:AttributeValue>admin</saml:AttributeValue></saml:Attribute></e:AttributeStatement>',
          ),
      ],
      ["an evil Assertion inside the signature's ds:Object", (x) => x.replace('</ds:Signature>', `<ds:Object>${evilAssertion()}</ds:Object></ds:Signature>`)],
      [
        'a duplicate ID: evil Assertion carrying the signed ID',
        (x) => {
          const id = /<saml:Assertion ID="([^"]+)"/.exec(x)![1];
          return x.replace('<saml:Assertion ', `${evilAssertion(id)}<saml:Assertion `);
        },
      ],
    ];
    it.each(cases)('%s', async (_name, change) => {
      const got = await outcome(change(signed()));
      if (got.accepted) {
        expect(got.nameId).toBe('alice');
        expect(got.attributes).toEqual({ email: ['alice@example.com'], role: ['user'] });
      } else {
        expect(got.code).not.toMatch(/^NOT-A/);
      }
    });

    it('response signed (assertion too), then the assertion swapped for another signed one of another user', async () => {
      const a = buildSignedResponse(base({ signResponse: true }));
      const b = buildSignedResponse(base({ nameId: 'mallory', attributes: { role: ['admin'] } }));
      const assertionOf = (x: string) => /<saml:Assertion [\s\S]*<\/saml:Assertion>/.exec(x)![0];
      const swapped = a.replace(assertionOf(a), assertionOf(b));
      const got = await outcome(swapped);
      // B's assertion is itself validly signed by the IdP, so accepting it as B is fine; never A's claims with B's name or the reverse
      if (got.accepted) expect(got).toMatchObject({ nameId: 'mallory', attributes: { role: ['admin'] } });
      else expect(got.code).not.toMatch(/^NOT-A/);
    });

    it('encrypted assertion plus a plain unsigned assertion', async () => {
      const enc = await buildEncryptedResponse(base({ acsUrl: encSp.urls.acs, spEntityId: encSp.urls.entityId }), spKeys.certificatePem);
      for (const x of [
        enc.replace('</samlp:Response>', `${evilAssertion()}</samlp:Response>`),
        enc.replace('<saml:EncryptedAssertion', `${evilAssertion()}<saml:EncryptedAssertion`),
      ]) {
        const got = await outcome(x, encSp);
        expect(got.accepted).toBe(false);
      }
      expect(await outcome(enc, encSp)).toMatchObject({ accepted: true, attributes: { role: ['user'] } });
    });
  });

  describe('the login and the simulator key a response on the same subject', () => {
    /** A response whose assertion (signed after the change) carries this Subject. */
    const withSubject = (subject: string, attrs: Record<string, string[]> = { email: ['alice@example.com'], objectGUID: ['g-1'] }) => {
      const o = base({ attributes: attrs });
      const xml = buildResponseXml(o).replace(/<saml:Subject><saml:NameID[^>]*>[^<]*<\/saml:NameID>/, `<saml:Subject>${subject}`);
      return signById(xml, o.assertionId!, idpKeys);
    };
    const simulate = (xml: string, policy = {}) => {
      try {
        return { ok: true, ...keyedLogin(readSamlLogin(xml), policy) };
      } catch (err) {
        return { ok: false, error: (err as Error).message };
      }
    };
    const login = async (xml: string, policy = {}) => {
      const got = await outcome(xml);
      if (!got.accepted) return { ok: false, code: got.code };
      try {
        return {
          ok: true,
          ...loginSubject({ nameId: got.nameId, nameIdFormat: got.nameIdFormat, attributes: got.attributes }, policy),
          attributes: got.attributes,
        };
      } catch (err) {
        return { ok: false, code: (err as SamlValidationError).code, error: (err as Error).message };
      }
    };

    const subjects: [string, string][] = [
      ['CDATA', '<saml:NameID><![CDATA[alice]]></saml:NameID>'],
      ['an entity reference', '<saml:NameID>al&#105;ce</saml:NameID>'],
      ['a CR LF', '<saml:NameID>alice&#13;\n</saml:NameID>'],
      ['a raw CR LF', '<saml:NameID>alice\r\n</saml:NameID>'],
      ['a child element inside the NameID', '<saml:NameID>al<x:b xmlns:x="urn:x">zz</x:b>ice</saml:NameID>'],
      ['a foreign-namespace NameID before the SAML one', '<e:NameID xmlns:e="urn:evil">mallory</e:NameID><saml:NameID>alice</saml:NameID>'],
      ['two SAML NameIDs', '<saml:NameID>alice</saml:NameID><saml:NameID>mallory</saml:NameID>'],
      ['a NameID without text, with a Format', '<saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"></saml:NameID>'],
      ['an EncryptedID only (no NameID)', '<saml:EncryptedID><xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#"/></saml:EncryptedID>'],
      ['a BaseID only', '<saml:BaseID xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" NameQualifier="x"/>'],
      ['a Format with surrounding spaces', '<saml:NameID Format=" urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">alice</saml:NameID>'],
      [
        'a Format on a foreign-prefixed attribute',
        '<saml:NameID xmlns:e="urn:evil" e:Format="urn:oasis:names:tc:SAML:2.0:nameid-format:transient">alice</saml:NameID>',
      ],
    ];

    it.each(subjects)('%s: no policy, and keyed on objectGUID', async (_name, subject) => {
      const xml = withSubject(subject);
      for (const policy of [{}, { subjectAttribute: 'objectGUID' }, { requestedFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent' }]) {
        const [l, s] = [await login(xml, policy), simulate(xml, policy)];
        const agree =
          l.ok === s.ok &&
          (!l.ok ||
            ((l as { subject: string }).subject === (s as { subject: string }).subject &&
              (l as { subjectFormat: string }).subjectFormat === (s as { subjectFormat: string }).subjectFormat));
        expect({ policy, agree, login: l, simulator: s }).toEqual({ policy, agree: true, login: l, simulator: s });
      }
    });

    it('whitespace-only and empty values of the subject attribute', async () => {
      for (const values of [[' g-1 '], ['g-1', ' g-1'], ['', 'g-1'], ['g-1', 'g-2']]) {
        const xml = withSubject('<saml:NameID>alice</saml:NameID>', { objectGUID: values });
        const [l, s] = [await login(xml, { subjectAttribute: 'objectGUID' }), simulate(xml, { subjectAttribute: 'objectGUID' })];
        expect({ values, l: l.ok && (l as { subject: string }).subject }).toEqual({ values, l: s.ok && (s as { subject: string }).subject });
      }
    });

    it('a response with a second assertion is refused by both', async () => {
      const xml = buildSignedResponse(base()).replace('<saml:Assertion ', `${evilAssertion()}<saml:Assertion `);
      expect((await outcome(xml)).accepted).toBe(false);
      expect(simulate(xml)).toMatchObject({ ok: false, error: expect.stringContaining('2 Assertions') });
    });
  });
});
