import { X509Certificate } from 'node:crypto';
import * as xmlenc from 'xml-encryption';
import { SignedXml } from 'xml-crypto';

/**
 * A SAML IdP under the test's control: builds Keycloak-shaped Responses with any Destination,
 * Recipient, Issuer, times or algorithm, and signs the assertion (and optionally the response)
 * with its own key — so every negative case can be produced on purpose.
 */
export interface TestIdpKeys {
  privateKeyPem: string;
  certificatePem: string;
}

export interface ResponseOptions {
  idpEntityId: string;
  spEntityId: string;
  acsUrl: string;
  inResponseTo?: string;
  /** InResponseTo on the assertion's SubjectConfirmationData: the Response's by default, null for none. */
  subjectInResponseTo?: string | null;
  nameId?: string;
  /** By name; or as a list of elements, where a name may repeat (one `<Attribute>` per entry). */
  attributes?: Record<string, string[]> | [name: string, values: string[]][];
  destination?: string | null;
  recipient?: string | null;
  issuer?: string;
  assertionIssuer?: string;
  now?: Date;
  /** SubjectConfirmationData and Conditions lifetime. */
  validForMs?: number;
  notBefore?: Date;
  assertionId?: string;
  signAssertion?: boolean;
  signResponse?: boolean;
  signatureAlgorithm?: 'rsa-sha256' | 'rsa-sha1';
  digestAlgorithm?: 'sha256' | 'sha1';
  /** The References' transforms (enveloped-signature then exclusive c14n by default). */
  transforms?: string[];
  /** Key that signs (another key than the one the SP trusts makes a foreign signature). */
  keys: TestIdpKeys;
}

const SIG = {
  'rsa-sha256': 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  'rsa-sha1': 'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
} as const;
const DIGEST = { sha256: 'http://www.w3.org/2001/04/xmlenc#sha256', sha1: 'http://www.w3.org/2000/09/xmldsig#sha1' } as const;
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');

export function buildResponseXml(o: ResponseOptions): string {
  const now = o.now ?? new Date();
  const until = new Date(now.getTime() + (o.validForMs ?? 5 * 60_000)).toISOString();
  const notBefore = (o.notBefore ?? new Date(now.getTime() - 1000)).toISOString();
  const responseId = `_resp${crypto.randomUUID()}`;
  const assertionId = o.assertionId ?? `_a${crypto.randomUUID()}`;
  const irt = o.inResponseTo ? ` InResponseTo="${esc(o.inResponseTo)}"` : '';
  const subjectIrtValue = o.subjectInResponseTo === undefined ? o.inResponseTo : o.subjectInResponseTo;
  const subjectIrt = subjectIrtValue ? ` InResponseTo="${esc(subjectIrtValue)}"` : '';
  const destination = o.destination === null ? '' : ` Destination="${esc(o.destination ?? o.acsUrl)}"`;
  const recipient = o.recipient === null ? '' : ` Recipient="${esc(o.recipient ?? o.acsUrl)}"`;
  const attributes = (Array.isArray(o.attributes) ? o.attributes : Object.entries(o.attributes ?? {}))
    .map(
      ([name, values]) =>
        `<saml:Attribute Name="${esc(name)}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic">${values
          .map(
            (v) =>
              `<saml:AttributeValue xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="xs:string">${esc(v)}</saml:AttributeValue>`,
          )
          .join('')}</saml:Attribute>`,
    )
    .join('');
  return (
    `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${responseId}" Version="2.0" IssueInstant="${now.toISOString()}"${destination}${irt}>` +
    `<saml:Issuer>${esc(o.issuer ?? o.idpEntityId)}</saml:Issuer>` +
    `<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>` +
    `<saml:Assertion ID="${assertionId}" Version="2.0" IssueInstant="${now.toISOString()}">` +
    `<saml:Issuer>${esc(o.assertionIssuer ?? o.issuer ?? o.idpEntityId)}</saml:Issuer>` +
    `<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified">${esc(o.nameId ?? 'alice')}</saml:NameID>` +
    `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData${subjectIrt} NotOnOrAfter="${until}"${recipient}/></saml:SubjectConfirmation></saml:Subject>` +
    `<saml:Conditions NotBefore="${notBefore}" NotOnOrAfter="${until}"><saml:AudienceRestriction><saml:Audience>${esc(o.spEntityId)}</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
    `<saml:AuthnStatement AuthnInstant="${now.toISOString()}" SessionIndex="_s${crypto.randomUUID()}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>` +
    `<saml:AttributeStatement>${attributes}</saml:AttributeStatement>` +
    `</saml:Assertion></samlp:Response>`
  );
}

function sign(xml: string, localName: 'Assertion' | 'Response', o: ResponseOptions): string {
  const sig = new SignedXml({
    privateKey: o.keys.privateKeyPem,
    publicCert: o.keys.certificatePem,
    signatureAlgorithm: SIG[o.signatureAlgorithm ?? 'rsa-sha256'],
    canonicalizationAlgorithm: EXC_C14N,
  });
  sig.addReference({
    xpath: `/*[local-name(.)='Response']${localName === 'Assertion' ? "/*[local-name(.)='Assertion']" : ''}`,
    digestAlgorithm: DIGEST[o.digestAlgorithm ?? 'sha256'],
    transforms: o.transforms ?? ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', EXC_C14N],
  });
  const issuer = `/*[local-name(.)='Response']${localName === 'Assertion' ? "/*[local-name(.)='Assertion']" : ''}/*[local-name(.)='Issuer']`;
  sig.computeSignature(xml, { prefix: 'ds', location: { reference: issuer, action: 'after' } });
  return sig.getSignedXml();
}

/** The Response XML, signed as asked (assertion signed by default, like Keycloak with "Sign assertions"). */
export function buildSignedResponse(o: ResponseOptions): string {
  let xml = buildResponseXml(o);
  if (o.signAssertion !== false) xml = sign(xml, 'Assertion', o);
  if (o.signResponse) xml = sign(xml, 'Response', o);
  return xml;
}

/** XML Encryption algorithms, by their short names. */
export const ENCRYPTION = {
  'aes128-gcm': 'http://www.w3.org/2009/xmlenc11#aes128-gcm',
  'aes256-gcm': 'http://www.w3.org/2009/xmlenc11#aes256-gcm',
  'aes128-cbc': 'http://www.w3.org/2001/04/xmlenc#aes128-cbc',
  'aes256-cbc': 'http://www.w3.org/2001/04/xmlenc#aes256-cbc',
  'rsa-oaep-mgf1p': 'http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p',
  'rsa-1_5': 'http://www.w3.org/2001/04/xmlenc#rsa-1_5',
} as const;

export interface EncryptionOptions {
  /** Content encryption: AES-256-GCM by default (what Keycloak 26 sends). */
  content?: 'aes128-gcm' | 'aes256-gcm' | 'aes128-cbc' | 'aes256-cbc';
  /** Key transport: RSA-OAEP-MGF1P by default. */
  keyTransport?: 'rsa-oaep-mgf1p' | 'rsa-1_5';
}

/** `content` (any text, well-formed or not) as an xenc:EncryptedData to `certificatePem`, its key in an EncryptedKey inside. */
export function encryptXml(content: string, certificatePem: string, enc: EncryptionOptions = {}): Promise<string> {
  return new Promise<string>((resolve, reject) =>
    xmlenc.encrypt(
      content,
      {
        rsa_pub: new X509Certificate(certificatePem).publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        pem: certificatePem,
        encryptionAlgorithm: ENCRYPTION[enc.content ?? 'aes256-gcm'],
        keyEncryptionAlgorithm: ENCRYPTION[enc.keyTransport ?? 'rsa-oaep-mgf1p'],
        disallowEncryptionWithInsecureAlgorithm: false,
        warnInsecureAlgorithm: false,
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    ),
  );
}

/**
 * The same response with its signed assertion encrypted to `certificatePem` (AES-256-GCM content
 * and RSA-OAEP key transport unless `enc` says otherwise), inside an EncryptedAssertion.
 */
export async function buildEncryptedResponse(o: ResponseOptions, certificatePem: string, enc: EncryptionOptions = {}): Promise<string> {
  // The assertion declares its own namespace: it is read on its own once decrypted.
  const plain = buildResponseXml(o).replace('<saml:Assertion ', '<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ');
  const xml = o.signAssertion !== false ? sign(plain, 'Assertion', o) : plain;
  const assertion = xml.slice(xml.indexOf('<saml:Assertion '), xml.indexOf('</saml:Assertion>') + '</saml:Assertion>'.length);
  const encrypted = await encryptXml(assertion, certificatePem, enc);
  const out = xml.replace(assertion, `<saml:EncryptedAssertion>${encrypted}</saml:EncryptedAssertion>`);
  return o.signResponse ? sign(out, 'Response', o) : out;
}

/**
 * The response with the bytes of its encrypted content (IV, ciphertext blocks, GCM tag) changed
 * by `change`, as an attacker on the way would: for CBC, flipping a bit of one block flips the
 * same bit of the next block's plaintext (and garbles the block itself).
 */
export function tamperEncryptedContent(xml: string, change: (bytes: Buffer) => Buffer | void): string {
  const content = /(<xenc:CipherValue>)([^<]*)(<\/xenc:CipherValue>\s*<\/xenc:CipherData>\s*<\/xenc:EncryptedData>)/;
  const match = content.exec(xml);
  if (!match) throw new Error('the response holds no encrypted content');
  const bytes = Buffer.from(match[2], 'base64');
  const changed = change(bytes) ?? bytes;
  return xml.replace(content, `$1${changed.toString('base64')}$3`);
}

/** The response with its EncryptedAssertion's content replaced by `content` (any text) encrypted to `certificatePem`. */
export async function withEncryptedContent(xml: string, content: string, certificatePem: string, enc: EncryptionOptions = {}): Promise<string> {
  const encrypted = await encryptXml(content, certificatePem, enc);
  return xml.replace(/<saml:EncryptedAssertion>[\s\S]*<\/saml:EncryptedAssertion>/, () => `<saml:EncryptedAssertion>${encrypted}</saml:EncryptedAssertion>`);
}

export const toBase64 = (xml: string) => Buffer.from(xml, 'utf8').toString('base64');
