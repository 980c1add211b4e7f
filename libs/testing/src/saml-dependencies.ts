import { createRequire } from 'node:module';
import { dirname } from 'node:path';

/**
 * The copies of SAML validation's dependencies that node-saml and its xml-crypto really load
 * (pnpm gives each package its own), for the tests of the patches in `patches/`.
 */
export function samlValidationDependencies() {
  const nodeSamlDir = dirname(createRequire(__filename).resolve('@node-saml/node-saml/package.json'));
  const fromNodeSaml = createRequire(`${nodeSamlDir}/`);
  const xmlCryptoDir = dirname(fromNodeSaml.resolve('xml-crypto/package.json'));
  return { fromNodeSaml, xmlCryptoDir, fromXmlCrypto: createRequire(`${xmlCryptoDir}/`) };
}
