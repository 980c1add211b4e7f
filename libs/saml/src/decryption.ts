import { CipherGCMTypes, constants, createDecipheriv, privateDecrypt } from 'node:crypto';
import { SamlValidationError } from './errors';
import { attr, checkXmlLimits, children, descendants, NS, parseXml } from './xml';

const XENC = 'http://www.w3.org/2001/04/xmlenc#';
const XENC11 = 'http://www.w3.org/2009/xmlenc11#';
const SHA1 = 'http://www.w3.org/2000/09/xmldsig#sha1';

type ContentCipher = { mode: 'gcm'; cipher: CipherGCMTypes } | { mode: 'cbc'; cipher: 'aes-128-cbc' | 'aes-192-cbc' | 'aes-256-cbc' };

/**
 * Content encryption: AES-GCM is authenticated, so a ciphertext altered on the way never
 * decrypts at all. AES-CBC has no integrity: an attacker who alters a ciphertext and watches how
 * it is refused can read it block by block (the padding-oracle attack on XML Encryption), and a
 * key wrapped for GCM can be replayed under CBC (a downgrade). CBC is therefore refused unless the
 * IdP's configuration opts in (`allowCbcEncryption`).
 */
export const CONTENT_ALGORITHMS: Record<string, ContentCipher> = {
  [`${XENC11}aes128-gcm`]: { mode: 'gcm', cipher: 'aes-128-gcm' },
  [`${XENC11}aes192-gcm`]: { mode: 'gcm', cipher: 'aes-192-gcm' },
  [`${XENC11}aes256-gcm`]: { mode: 'gcm', cipher: 'aes-256-gcm' },
  [`${XENC}aes128-cbc`]: { mode: 'cbc', cipher: 'aes-128-cbc' },
  [`${XENC}aes192-cbc`]: { mode: 'cbc', cipher: 'aes-192-cbc' },
  [`${XENC}aes256-cbc`]: { mode: 'cbc', cipher: 'aes-256-cbc' },
};

/** Key transport: RSA-OAEP only (RSA 1.5 is Bleichenbacher's oracle). */
export const KEY_TRANSPORT_ALGORITHMS = new Set([`${XENC}rsa-oaep-mgf1p`, `${XENC11}rsa-oaep`]);

/**
 * What node-saml's own decryption (xml-encryption 3.1, which opens the assertion again after this
 * check) can open. The other allowed algorithms are refused as `unsupported`, before any key is
 * used, with a message that says what to configure instead.
 */
const OPENED_BY_NODE_SAML = new Set([`${XENC11}aes128-gcm`, `${XENC11}aes256-gcm`, `${XENC}aes128-cbc`, `${XENC}aes256-cbc`, `${XENC}rsa-oaep-mgf1p`]);

/** The one message of every decryption failure, whatever went wrong: no detail, so no oracle. */
export const DECRYPTION_FAILED = 'the encrypted assertion could not be decrypted with this service provider’s keys';

export const decryptionFailed = () => new SamlValidationError('decryption', DECRYPTION_FAILED);

/** An EncryptedAssertion whose algorithms and shape were checked, ready to decrypt. */
export interface EncryptedAssertionParts {
  content: ContentCipher;
  /** IV, ciphertext (and for GCM the tag), as sent. */
  cipherValue: Buffer;
  /** The content key, wrapped with RSA-OAEP for one of our keys. */
  wrappedKey: Buffer;
}

const uri = (alg: string) => (alg.length > 200 ? `${alg.slice(0, 200)}…` : alg || '(none)');

/**
 * Reads an EncryptedAssertion's algorithms and parts without using any key: every
 * EncryptionMethod in it (wherever it sits, as xml-encryption finds them by local name) must name
 * an allowed algorithm, refused as `algorithm` otherwise; CBC content only with `allowCbc`.
 */
export function readEncryptedAssertion(encrypted: Element, opts: { allowCbc: boolean }): EncryptedAssertionParts {
  for (const method of descendants(encrypted, '*', 'EncryptionMethod')) {
    const alg = attr(method, 'Algorithm') ?? '';
    const parent = (method.parentNode as Element | null)?.localName;
    if (parent === 'EncryptedData') {
      const content = CONTENT_ALGORITHMS[alg];
      if (!content) throw new SamlValidationError('algorithm', `the assertion is encrypted with ${uri(alg)}, which is refused: AES-GCM only`);
      if (content.mode === 'cbc' && !opts.allowCbc) {
        throw new SamlValidationError(
          'algorithm',
          `the assertion is encrypted with AES-CBC (${alg}), which is refused: CBC has no integrity protection (padding-oracle and downgrade attacks); configure the IdP for AES-GCM, or allow CBC for this IdP (allowCbcEncryption)`,
        );
      }
    } else if (parent === 'EncryptedKey') {
      if (!KEY_TRANSPORT_ALGORITHMS.has(alg))
        throw new SamlValidationError('algorithm', `the assertion's key is sent with ${uri(alg)}, which is refused: RSA-OAEP only`);
    } else {
      throw new SamlValidationError('algorithm', `the encrypted assertion names an EncryptionMethod inside ${parent ?? 'nothing'}, which is refused`);
    }
  }
  const data = descendants(encrypted, '*', 'EncryptedData');
  const keys = descendants(encrypted, '*', 'EncryptedKey');
  if (data.length !== 1 || keys.length !== 1 || data[0].namespaceURI !== XENC || keys[0].namespaceURI !== XENC) {
    throw new SamlValidationError(
      'malformed',
      `the encrypted assertion must hold one EncryptedData and one EncryptedKey (it holds ${data.length} and ${keys.length})`,
    );
  }
  const contentMethod = children(data[0], XENC, 'EncryptionMethod');
  const keyMethod = children(keys[0], XENC, 'EncryptionMethod');
  if (contentMethod.length !== 1 || keyMethod.length !== 1)
    throw new SamlValidationError('malformed', 'the encrypted assertion does not name its content and key algorithms once each');
  const contentAlg = attr(contentMethod[0], 'Algorithm')!;
  const keyAlg = attr(keyMethod[0], 'Algorithm')!;
  const digests = descendants(keyMethod[0], '*', 'DigestMethod').map((d) => attr(d, 'Algorithm') ?? '');
  for (const alg of [contentAlg, keyAlg]) {
    if (!OPENED_BY_NODE_SAML.has(alg))
      throw new SamlValidationError(
        'unsupported',
        `${alg} is allowed but cannot be decrypted here; configure the IdP for AES-256-GCM (or AES-128-GCM) with RSA-OAEP-MGF1P key transport`,
      );
  }
  if (digests.some((d) => d !== SHA1) || children(keyMethod[0], XENC, 'OAEPparams').length) {
    throw new SamlValidationError(
      'unsupported',
      `RSA-OAEP-MGF1P is supported with its SHA-1 digest and no OAEP parameters only (the key names ${digests.map(uri).join(', ') || 'OAEP parameters'})`,
    );
  }
  return { content: CONTENT_ALGORITHMS[contentAlg], cipherValue: cipherValue(data[0]), wrappedKey: cipherValue(keys[0]) };
}

function cipherValue(el: Element): Buffer {
  const values = children(el, XENC, 'CipherData').flatMap((d) => children(d, XENC, 'CipherValue'));
  if (values.length !== 1) throw new SamlValidationError('malformed', `the encrypted assertion's ${el.localName} must carry one CipherValue`);
  return Buffer.from(values[0].textContent ?? '', 'base64');
}

/**
 * Opens the assertion with the first key that unwraps its content key (the active key, then a
 * rotation's). Every failure, whatever its cause, is the same `decryption` error with the same
 * message; under CBC, bad padding and a plaintext that is not an assertion take the same path
 * (the plaintext is parsed either way), so neither the answer nor its timing tells them apart.
 */
export function decryptAssertion(parts: EncryptedAssertionParts, keys: string[]): { assertion: Document; xml: string; keyIndex: number } {
  for (const [keyIndex, key] of keys.entries()) {
    let contentKey: Buffer;
    try {
      // RSA-OAEP is chosen-ciphertext secure: knowing which keys unwrap tells an attacker nothing.
      contentKey = privateDecrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, parts.wrappedKey);
    } catch {
      continue;
    }
    const opened = openContent(parts, contentKey);
    if (!opened) throw decryptionFailed();
    return { ...opened, keyIndex };
  }
  throw decryptionFailed();
}

/** The decrypted assertion, or undefined; never throws (no error of its own can tell causes apart). */
function openContent({ content, cipherValue }: EncryptedAssertionParts, key: Buffer): { assertion: Document; xml: string } | undefined {
  let plaintext: Buffer;
  let intact: boolean;
  try {
    if (content.mode === 'gcm') {
      // IV (12 bytes), ciphertext, tag (16 bytes): final() throws when the tag does not match, and
      // then no plaintext exists to look at.
      if (cipherValue.length < 12 + 16) return undefined;
      const decipher = createDecipheriv(content.cipher, key, cipherValue.subarray(0, 12));
      decipher.setAuthTag(cipherValue.subarray(cipherValue.length - 16));
      plaintext = Buffer.concat([decipher.update(cipherValue.subarray(12, cipherValue.length - 16)), decipher.final()]);
      intact = true;
    } else {
      // IV (16 bytes), then whole blocks. XML Encryption pads with any bytes and the count last
      // (ISO 10126), so only that last byte can be checked.
      const blocks = cipherValue.subarray(16);
      if (blocks.length === 0 || blocks.length % 16 !== 0) return undefined;
      const decipher = createDecipheriv(content.cipher, key, cipherValue.subarray(0, 16)).setAutoPadding(false);
      const padded = Buffer.concat([decipher.update(blocks), decipher.final()]);
      const pad = padded[padded.length - 1];
      intact = pad >= 1 && pad <= 16;
      plaintext = padded.subarray(0, padded.length - (intact ? pad : 0));
    }
  } catch {
    return undefined;
  }
  // Parsed whether or not the padding was right, and only then decided.
  const assertion = parseAssertion(plaintext);
  return intact ? assertion : undefined;
}

function parseAssertion(plaintext: Buffer): { assertion: Document; xml: string } | undefined {
  try {
    const xml = plaintext.toString('utf8');
    checkXmlLimits(xml);
    const assertion = parseXml(xml);
    const root = assertion.documentElement;
    return root.localName === 'Assertion' && root.namespaceURI === NS.saml ? { assertion, xml } : undefined;
  } catch {
    return undefined;
  }
}
