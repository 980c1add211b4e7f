import * as crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import * as querystring from 'node:querystring';
import { SAML } from '@node-saml/node-saml';
import { generateSigningKeyPair, SigningKeyPair } from './keys';

/**
 * @node-saml/node-saml is installed with a performance patch (patches/README.md): a message it
 * signs for the HTTP-Redirect binding (AuthnRequest, LogoutRequest) is signed with the private
 * key parsed once, not parsed from its PEM text at every signature. These tests check that the
 * copy Bridgekeeper loads carries it, that every signature still verifies with the key's
 * certificate exactly as an IdP checks it, and that a changed key is used at once.
 */
describe('@node-saml/node-saml, patched', () => {
  let first: SigningKeyPair;
  let second: SigningKeyPair;

  beforeAll(async () => {
    [first, second] = await Promise.all([generateSigningKeyPair('sp one'), generateSigningKeyPair('sp two')]);
  });

  const saml = (privateKey: string) =>
    new SAML({
      entryPoint: 'https://idp.example.com/sso',
      issuer: 'https://sp.example.com',
      callbackUrl: 'https://sp.example.com/acs',
      idpCert: first.certificatePem,
      privateKey,
      signatureAlgorithm: 'sha256',
    });

  /** Checks the Redirect binding's signature as the IdP does: over SAMLRequest, RelayState and SigAlg, in that order. */
  const verifies = (url: string, certificatePem: string): boolean => {
    const q = new URL(url).searchParams;
    const signed = querystring.stringify({ SAMLRequest: q.get('SAMLRequest')!, RelayState: q.get('RelayState')!, SigAlg: q.get('SigAlg')! });
    return crypto.verify('RSA-SHA256', Buffer.from(signed), new crypto.X509Certificate(certificatePem).publicKey, Buffer.from(q.get('Signature')!, 'base64'));
  };

  it('carries the patch (pnpm applied patches/@node-saml__node-saml@5.1.0.patch)', () => {
    const source = readFileSync(`${dirname(require.resolve('@node-saml/node-saml'))}/saml.js`, 'utf8');
    expect(source.match(/Bridgekeeper patch/g)).toHaveLength(1);
    expect(source).toContain('signer.sign(this.requestSigningKey, "base64")');
  });

  it('signs every request verifiably, parsing the key once', async () => {
    const sp = saml(first.privateKeyPem);
    // The module object node-saml calls through (an `import *` namespace is a copy).
    const parse = jest.spyOn(require('node:crypto') as typeof crypto, 'createPrivateKey');
    try {
      const urls = [];
      for (let i = 0; i < 3; i++) urls.push(await sp.getAuthorizeUrlAsync(`relay-${i}`, undefined, {}));
      expect(new Set(urls).size).toBe(3);
      for (const url of urls) expect(verifies(url, first.certificatePem)).toBe(true);
      expect(parse).toHaveBeenCalledTimes(1);
    } finally {
      parse.mockRestore();
    }
  });

  it('signs with a changed key at once, and never with the one before', async () => {
    const sp = saml(first.privateKeyPem);
    expect(verifies(await sp.getAuthorizeUrlAsync('before', undefined, {}), first.certificatePem)).toBe(true);
    sp.options.privateKey = second.privateKeyPem;
    const after = await sp.getAuthorizeUrlAsync('after', undefined, {});
    expect(verifies(after, second.certificatePem)).toBe(true);
    expect(verifies(after, first.certificatePem)).toBe(false);
  });

  it('still refuses a key that is not one', async () => {
    await expect(saml('not a key').getAuthorizeUrlAsync('relay', undefined, {})).rejects.toThrow(/privateKey is not in PEM format or in base64 format/);
  });
});
