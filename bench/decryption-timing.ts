import { DOMParser } from '@xmldom/xmldom';
import { decryptAssertion, generateSigningKeyPair, readEncryptedAssertion, SamlServiceProvider, SamlValidationError, spUrls } from '@bridgekeeper/saml';
import { buildEncryptedResponse, tamperEncryptedContent, toBase64 } from '@bridgekeeper/testing';

/**
 * A by-hand measurement, not part of `pnpm bench`: does refusing a CBC ciphertext with bad
 * padding take a different time from refusing one whose padding is fine but whose plaintext is
 * not XML? That difference is what a padding-oracle attacker times. It sends what the attacker
 * sends: the response with the last byte of the second-to-last ciphertext block XORed with every
 * value 1–255. About 1 in 16 of those leaves a valid padding length (and a garbled block: not
 * XML), the rest break the padding. The service provider has opted in to CBC; verification runs
 * inline on one core, so nothing but the code under test is timed.
 *
 *   pnpm build:bench && node dist/bench/decryption-timing.js [rounds]
 */
const IDP = 'http://localhost:8080/realms/bridgekeeper';
const PUBLIC_URL = 'http://localhost:3000';

async function main(rounds: number) {
  const [idpKeys, spKeys] = await Promise.all([generateSigningKeyPair('timing idp'), generateSigningKeyPair('timing sp')]);
  const urls = spUrls(PUBLIC_URL, 'keycloak');
  const sp = new SamlServiceProvider({
    idpId: 'keycloak',
    publicUrl: PUBLIC_URL,
    idp: {
      entityId: IDP,
      ssoRedirectUrl: `${IDP}/protocol/saml`,
      signingCertificates: [idpKeys.certificatePem.replace(/-----[^-]+-----|\s+/g, '')],
      wantAuthnRequestsSigned: true,
    },
    signingKey: spKeys.privateKeyPem,
    signingCert: spKeys.certificatePem,
    encryptionKey: spKeys.privateKeyPem,
    encryptionCert: spKeys.certificatePem,
    allowCbcEncryption: true,
    binding: 'HTTP-Redirect',
    clockSkewMs: 30_000,
    requestTtlMs: 600_000,
  });
  const response = await buildEncryptedResponse(
    {
      idpEntityId: IDP,
      spEntityId: urls.entityId,
      acsUrl: urls.acs,
      keys: idpKeys,
      attributes: { email: ['alice@example.com'], groups: ['/engineering/backend', '/staff'] },
    },
    spKeys.certificatePem,
    { content: 'aes256-cbc' },
  );
  const variants = Array.from({ length: 255 }, (_, i) => toBase64(tamperEncryptedContent(response, (b) => void (b[b.length - 17] ^= i + 1))));
  const refusal = async (b64: string) => {
    try {
      await sp.verifyPostResponse(b64);
      return 'accepted';
    } catch (err) {
      return err instanceof SamlValidationError ? `${err.code}: ${err.message}` : `thrown: ${String(err)}`;
    }
  };

  // Which variants keep a valid padding length is decided by the plaintext: ask the cipher itself.
  const { createDecipheriv, privateDecrypt, constants } = await import('node:crypto');
  const raw = (b64: string) =>
    /<xenc:CipherValue>([^<]*)<\/xenc:CipherValue>\s*<\/xenc:CipherData>\s*<\/xenc:EncryptedData>/.exec(Buffer.from(b64, 'base64').toString('utf8'))![1];
  const wrapped = /<e:CipherValue>([^<]*)<\/e:CipherValue>/.exec(response)![1];
  const key = privateDecrypt({ key: spKeys.privateKeyPem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, Buffer.from(wrapped, 'base64'));
  const padOk = variants.map((v) => {
    const bytes = Buffer.from(raw(v), 'base64');
    const d = createDecipheriv('aes-256-cbc', key, bytes.subarray(0, 16)).setAutoPadding(false);
    const plain = Buffer.concat([d.update(bytes.subarray(16)), d.final()]);
    const pad = plain[plain.length - 1];
    return pad >= 1 && pad <= 16;
  });
  const answers = new Set(await Promise.all(variants.map(refusal)));
  console.log(`${padOk.filter(Boolean).length} of 255 variants keep a valid padding length; distinct answers: ${JSON.stringify([...answers])}`);

  // The decryption step alone (RSA-OAEP unwrap, content decryption, parse), without the prechecks and the rest of verification.
  const parts = variants.map((v) => {
    const doc = new DOMParser().parseFromString(Buffer.from(v, 'base64').toString('utf8'), 'text/xml');
    return readEncryptedAssertion(doc.getElementsByTagNameNS('urn:oasis:names:tc:SAML:2.0:assertion', 'EncryptedAssertion')[0] as unknown as Element, {
      allowCbc: true,
    });
  });
  const decryptOnly = async (i: number) => {
    try {
      decryptAssertion(parts[i], [spKeys.privateKeyPem]);
    } catch {
      /* refused: timed all the same */
    }
  };

  for (let i = 0; i < 2; i++) for (const v of variants) await refusal(v); // warm-up
  const measure = async (label: string, run: (i: number) => Promise<unknown>) => {
    const times: Record<'padding' | 'plaintext', number[]> = { padding: [], plaintext: [] };
    for (let r = 0; r < rounds; r++) {
      const order = variants.map((_, i) => i).sort(() => Math.random() - 0.5);
      for (const i of order) {
        const started = process.hrtime.bigint();
        await run(i);
        times[padOk[i] ? 'plaintext' : 'padding'].push(Number(process.hrtime.bigint() - started) / 1000);
      }
    }
    report(label, times);
  };
  await measure('verifyPostResponse (what a visitor times)', (i) => refusal(variants[i]));
  await measure('decryptAssertion (the step where the two differ)', decryptOnly);
}

function report(label: string, times: Record<'padding' | 'plaintext', number[]>) {
  const stats = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const mean = s.reduce((a, b) => a + b, 0) / s.length;
    const sd = Math.sqrt(s.reduce((a, b) => a + (b - mean) ** 2, 0) / (s.length - 1));
    const q = (p: number) => s[Math.floor(p * (s.length - 1))];
    return { n: s.length, mean, se: sd / Math.sqrt(s.length), p10: q(0.1), median: q(0.5), p90: q(0.9) };
  };
  console.log(`\n${label}`);
  const a = stats(times.padding);
  const b = stats(times.plaintext);
  const row = (name: string, s: ReturnType<typeof stats>) =>
    `${name.padEnd(34)} n=${String(s.n).padStart(6)}  median ${s.median.toFixed(1)} µs  mean ${s.mean.toFixed(1)} ± ${(1.96 * s.se).toFixed(1)} µs  p10 ${s.p10.toFixed(1)}  p90 ${s.p90.toFixed(1)}`;
  console.log(row('bad padding', a));
  console.log(row('valid padding, malformed plaintext', b));
  console.log(
    `difference of means ${(b.mean - a.mean).toFixed(1)} ± ${(1.96 * Math.hypot(a.se, b.se)).toFixed(1)} µs (95%), of medians ${(b.median - a.median).toFixed(1)} µs`,
  );
}

void main(Number(process.argv[2] ?? 40));
