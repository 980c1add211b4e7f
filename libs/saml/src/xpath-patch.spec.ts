import { readFileSync } from 'node:fs';
import { samlValidationDependencies } from '@bridgekeeper/testing';
import { parseXml } from './xml';

/**
 * node-saml and xml-crypto evaluate their XPath queries with `xpath`, which Bridgekeeper installs
 * with a performance patch (patches/README.md). These tests find the copies SAML validation really
 * loads, check that each carries the patch, and that the patched evaluator still answers the
 * queries signature validation depends on exactly as before.
 */
const { fromNodeSaml, fromXmlCrypto } = samlValidationDependencies();
const copies = {
  "node-saml's xpath": fromNodeSaml.resolve('xpath'),
  "xml-crypto's xpath": fromXmlCrypto.resolve('xpath'),
};

const doc = parseXml(
  [
    '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r">',
    '<saml:Assertion ID="_a"><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo/></ds:Signature>',
    '<saml:Subject><saml:NameID>alice</saml:NameID></saml:Subject></saml:Assertion>',
    '<saml:Assertion Id="_b"/><other id="_a"/>',
    '</samlp:Response>',
  ].join(''),
);

describe.each(Object.entries(copies))('%s', (_name, file) => {
  const xpath = require(file) as typeof import('xpath');

  it('carries the performance patch (pnpm applied patches/xpath@<version>.patch)', () => {
    const source = readFileSync(file, 'utf8');
    expect(source.match(/Bridgekeeper patch/g)).toHaveLength(3);
    expect(source).toContain('return Object.assign.apply(Object, arguments);');
  });

  it("answers xml-crypto's ID scans and node-saml's signature queries as before", () => {
    const select = (expr: string, ctx: Node) => xpath.select(expr, ctx) as unknown as Element[];
    const ids = (name: string, value: string) => select(`//*[@*[local-name(.)='${name}']='${value}']`, doc);
    expect(ids('ID', '_a').map((e) => e.localName)).toEqual(['Assertion']);
    expect(ids('id', '_a').map((e) => e.localName)).toEqual(['other']);
    expect(ids('Id', '_b')).toHaveLength(1);
    expect(ids('ID', '_b')).toHaveLength(0);

    const assertion = ids('ID', '_a')[0];
    const signatures = select("./*[local-name(.)='Signature' and namespace-uri(.)='http://www.w3.org/2000/09/xmldsig#']", assertion);
    expect(signatures).toHaveLength(1);
    expect(select("./*[local-name(.)='Signature']", doc.documentElement)).toHaveLength(0);
    const withPrefixes = xpath.useNamespaces({ saml: 'urn:oasis:names:tc:SAML:2.0:assertion' }) as unknown as (expr: string, ctx: Node) => unknown;
    expect(withPrefixes('string(//saml:NameID)', doc)).toBe('alice');
    expect(withPrefixes("count(/*/saml:Assertion[@ID='_a'])", doc)).toBe(1);
  });
});
