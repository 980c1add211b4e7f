import { readFileSync } from 'node:fs';
import { samlValidationDependencies } from '@bridgekeeper/testing';

/**
 * xml-crypto, under node-saml, finds the element a signature references with one XPath scan of the
 * whole document per ID attribute name (`//*[@*[local-name(.)='ID']='…']` for `Id`, `ID`, `id`),
 * counting every match so that a second element with the same id (signature wrapping) is refused.
 * Bridgekeeper installs it with a patch (patches/README.md) that finds the same elements in one
 * walk. These tests check that the copy node-saml loads carries the patch, and that the walk
 * selects exactly what the XPath selects — the same elements, in the same order — on documents
 * made to trip it up. The refusals themselves (a duplicate id as `ID`, `Id` or `id`, a second
 * assertion) are tested through the whole validation in service-provider.spec.ts.
 */
const { xmlCryptoDir, fromXmlCrypto } = samlValidationDependencies();
const xpath = fromXmlCrypto('xpath') as typeof import('xpath');
const { DOMParser } = fromXmlCrypto('@xmldom/xmldom') as typeof import('@xmldom/xmldom');
const utils = fromXmlCrypto(`${xmlCryptoDir}/lib/utils.js`) as { elementsWithIdValue?: (doc: unknown, names: string[], value: string) => Map<string, unknown[]> };

const documents = [
  '<r ID="x"><a ID="x"/><b Id="x"/><c id="x"/><d ID="y"/></r>',
  // namespace declarations are attributes to the XPath too; prefixed attributes match by local name
  '<r xmlns:ID="x"><a xmlns:Id="x" xmlns="x"/><b foo:ID="x" xmlns:foo="urn:f"/><c ID="x" Id="x"/></r>',
  '<samlp:Response xmlns:samlp="urn:p" ID="_r"><saml:Assertion xmlns:saml="urn:a" ID="_a"><x ID="_a"/></saml:Assertion><!-- ID="_a" --><?pi ID="_a"?></samlp:Response>',
  '<r><a ID=""/><b ID=" x"/><c ID="x "/><d ID="X"/><e iD="x"/><f ID="x"><g ID="x"><h ID="x"/></g></f></r>',
  '<r><a xmlns="urn:d" ID="x"/><a:b xmlns:a="urn:a" a:Id="x"/><c ID="&#120;"/><d ID="x" id="x" Id="x"/></r>',
];
const values = ['x', '_a', '_r', '', 'X', ' x', 'urn:f'];
const names = ['Id', 'ID', 'id', 'xmlns', 'foo', 'a'];

describe("node-saml's xml-crypto", () => {
  it('carries the performance patch (pnpm applied patches/xml-crypto@<version>.patch)', () => {
    expect(readFileSync(`${xmlCryptoDir}/lib/utils.js`, 'utf8').match(/Bridgekeeper patch/g)).toHaveLength(1);
    expect(readFileSync(`${xmlCryptoDir}/lib/signed-xml.js`, 'utf8')).toContain('utils.elementsWithIdValue(doc, this.idAttributes, uri)');
  });

  it.each(documents)('finds the elements the XPath ID scan finds, in the same order: %s', (text) => {
    const doc = new DOMParser().parseFromString(text, 'text/xml');
    for (const value of values) {
      const found = utils.elementsWithIdValue!(doc, [...names, 'ID'], value); // a name twice counts once per scan, as before
      for (const name of names) {
        const scanned = xpath.select(`//*[@*[local-name(.)='${name}']='${value}']`, doc as unknown as Node) as unknown[];
        expect([name, value, found.get(name)!.length]).toEqual([name, value, scanned.length]);
        found.get(name)!.forEach((element, i) => expect(element).toBe(scanned[i]));
      }
    }
  });

  it('walks a deeply nested document without running out of stack', () => {
    const doc = new DOMParser().parseFromString(`${'<a>'.repeat(50_000)}<b ID="x"/>${'</a>'.repeat(50_000)}`, 'text/xml');
    expect(utils.elementsWithIdValue!(doc, ['ID'], 'x').get('ID')).toHaveLength(1);
  });
});
