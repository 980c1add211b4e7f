import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { samlValidationDependencies } from '@bridgekeeper/testing';

/**
 * xml-crypto, under node-saml, finds the element a signature references with one XPath scan of the
 * whole document per ID attribute name (`//*[@*[local-name(.)='ID']='…']` for `Id`, `ID`, `id`),
 * counting every match so that a second element with the same id (signature wrapping) is refused.
 * Bridgekeeper installs it with a patch (patches/README.md) that finds the same elements in one
 * walk. These tests check that the copy node-saml loads carries the patch, and that the walk
 * selects exactly what the XPath selects — the same elements, in the same order — on documents
 * made to trip it up: a few fixed ones, then generated ones (signature-wrapping shapes, duplicate
 * ids, look-alikes). The refusals themselves (a duplicate id as `ID`, `Id`, `id` or a prefixed
 * attribute, a second assertion) are tested through the whole validation in service-provider.spec.ts.
 */
const { xmlCryptoDir, fromXmlCrypto } = samlValidationDependencies();
const xpath = fromXmlCrypto('xpath') as typeof import('xpath');
const { DOMParser } = fromXmlCrypto('@xmldom/xmldom') as typeof import('@xmldom/xmldom');
const utils = fromXmlCrypto(`${xmlCryptoDir}/lib/utils.js`) as {
  elementsWithIdValue?: (doc: unknown, names: string[], value: string) => Map<string, unknown[]>;
};

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

  describe('against the XPath scan, on generated documents (properties)', () => {
    /** An element, or XML text put in as it is (text, comment, processing instruction, CDATA). */
    type Item = { tag: string; attrs: [string, string][]; children: Item[] } | string;
    const serialize = (item: Item): string =>
      typeof item === 'string'
        ? item
        : `<${item.tag}${item.attrs.map(([n, v]) => ` ${n}="${v}"`).join('')}>${item.children.map(serialize).join('')}</${item.tag}>`;

    // Values an id may take, as the DOM holds them (after entity and character references): the
    // value looked for and its look-alikes. No `'`: xml-crypto refuses a reference holding one
    // before any lookup.
    const ID = '_a';
    const VALUES = [ID, '_r', '', ' _a', '_a ', '_A', '_a\t', 'a"b', 'a]b&c', '<b/>', 'é', '//*', 'urn:x'];
    /** `value` as attribute text: each character as it is (escaped where XML needs it), or as a decimal or hexadecimal character reference. */
    const asAttribute = (value: string) =>
      fc.array(fc.constantFrom('as is', 'decimal', 'hex'), { minLength: value.length, maxLength: value.length }).map((ways) =>
        [...value]
          .map((c, i) => {
            const code = c.codePointAt(0)!;
            if (ways[i] === 'decimal') return `&#${code};`;
            if (ways[i] === 'hex') return `&#x${code.toString(16).toUpperCase()};`;
            return c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '"' ? '&quot;' : c;
          })
          .join(''),
      );
    const value = fc.oneof({ arbitrary: fc.constant(ID), weight: 3 }, { arbitrary: fc.constantFrom(...VALUES), weight: 2 });
    const attrValue = value.chain(asAttribute);
    // ID attribute names and look-alikes: other cases, prefixed (bound at the root), namespace
    // declarations named like them, a default namespace declaration, unrelated names.
    const idName = fc.constantFrom('ID', 'Id', 'id', 'p:ID', 'x:Id', 'p:id', 'xmlns:ID', 'xmlns:Id', 'xmlns:id');
    const attrName = fc.oneof(idName, fc.constantFrom('iD', 'ID ', 'xmlns', 'Target', 'URI', 'p:Foo'));
    const attrs = fc.uniqueArray(fc.tuple(attrName, attrValue), { maxLength: 4, selector: ([name]) => name.trim() });
    const tag = fc.constantFrom(
      'samlp:Response',
      'saml:Assertion',
      'evil:Assertion',
      'Assertion',
      'samlp:Extensions',
      'ds:Signature',
      'ds:Object',
      'ds:SignatureProperties',
      'ds:SignatureProperty',
      'x:Copy',
      'p:ID',
      'a',
    );
    // Text that looks like ids but is none: in text, comments, processing instructions (one
    // whose target is ID), CDATA; references in text.
    const leaf = fc.constantFrom(
      `ID="${ID}"`,
      ID,
      '&#95;a',
      ' ',
      `&amp;ID=&quot;${ID}&quot;`,
      `<!-- ID="${ID}" -->`,
      `<!--<a ID="${ID}"/>-->`,
      `<?pi ID="${ID}"?>`,
      `<?ID ${ID}?>`,
      `<![CDATA[<a ID="${ID}"/>]]>`,
      '<![CDATA[]]>',
    );
    const { item } = fc.letrec<{ item: Item; element: Item }>((tie) => ({
      item: fc.oneof({ maxDepth: 5, depthSize: 'small' }, leaf, tie('element')),
      element: fc.record({
        tag,
        attrs: attrs.map((a) => a.map(([n, v]): [string, string] => [n.trim(), v])),
        children: fc.array(tie('item'), { maxLength: 4 }),
      }),
    }));
    const forest = fc.array(item, { maxLength: 3 });
    const el = (tagName: string, attributes: [string, string][], children: Item[]): Item => ({ tag: tagName, attrs: attributes, children });
    const idAttr = fc.tuple(idName, fc.oneof({ arbitrary: fc.constant(ID), weight: 4 }, { arbitrary: value, weight: 1 }).chain(asAttribute));
    const assertionTag = fc.constantFrom('saml:Assertion', 'evil:Assertion', 'Assertion');
    // The shapes of signature wrapping: a second assertion (or response) under the same id nested
    // in the first's signature, beside it, inside Extensions, in a SignatureProperty, in another namespace.
    const wrapped = fc
      .record({ a: idAttr, b: idAttr, outer: assertionTag, inner: assertionTag, x: forest, y: forest, shape: fc.nat(4) })
      .map(({ a, b, outer, inner, x, y, shape }): Item[] => {
        const signed = el(inner, [a], x);
        switch (shape) {
          case 0:
            return [el(outer, [b], [el('ds:Signature', [], [el('ds:Object', [], [signed])]), ...y])];
          case 1:
            return [el('samlp:Extensions', [], [signed]), el(outer, [b], y)];
          case 2:
            return [signed, el(outer, [b], y)];
          case 3:
            return [el('samlp:Response', [b], [el('samlp:Extensions', [], [signed]), ...y])];
          default:
            return [el('ds:Signature', [], [el('ds:Object', [], [el('ds:SignatureProperties', [], [el('ds:SignatureProperty', [b], y)])])]), signed];
        }
      });
    const prolog = fc.constantFrom('', '<?xml version="1.0" encoding="UTF-8"?>', `<!-- ID="${ID}" -->`, `<?pi ID="${ID}"?>`);
    const NAMESPACES =
      'xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:evil="urn:evil" xmlns:p="urn:p" xmlns:x="urn:x"';
    const document = fc
      .record({ prolog, rootAttrs: attrs, body: fc.oneof(wrapped, forest), after: forest })
      .map(({ prolog: before, rootAttrs, body, after }) => {
        const attributes = rootAttrs.map(([n, v]) => ` ${n.trim()}="${v}"`).join('');
        return `${before}<samlp:Response ${NAMESPACES}${attributes}>${[...body, ...after].map(serialize).join('')}</samlp:Response>`;
      });
    // The names xml-crypto looks up (node-saml's: Id, ID, id), look-alikes, and a name listed twice.
    const names = fc.array(fc.constantFrom('Id', 'ID', 'id', 'iD', 'xmlns', 'p', 'Assertion'), { minLength: 1, maxLength: 5 });

    /** Parsed as xml-crypto parses (its xmldom, no MIME type: XML), its warnings kept out of the test output. */
    const parse = (text: string) => {
      const quiet = () => undefined;
      const fatalError = (message: string) => {
        throw new Error(`${message} in ${text}`);
      };
      // xmldom 0.8's options (the types are the workspace's 0.9).
      const options = { locator: {}, errorHandler: { warning: quiet, error: quiet, fatalError } } as unknown as ConstructorParameters<typeof DOMParser>[0];
      return new DOMParser(options).parseFromString(text, 'text/xml');
    };

    it('selects the same elements in the same order for every name and value', () => {
      let withDuplicates = 0;
      let runs = 0;
      fc.assert(
        fc.property(document, names, value, (text, idNames, wanted) => {
          const doc = parse(text);
          const elements = Array.from(doc.getElementsByTagName('*') as unknown as ArrayLike<unknown>);
          const position = (e: unknown) => elements.indexOf(e);
          const found = utils.elementsWithIdValue!(doc, idNames, wanted);
          let matches = 0;
          for (const name of new Set(idNames)) {
            const scanned = xpath.select(`//*[@*[local-name(.)='${name}']='${wanted}']`, doc as unknown as Node) as unknown[];
            expect([name, wanted, found.get(name)!.map(position)]).toEqual([name, wanted, scanned.map(position)]);
            matches += scanned.length;
          }
          runs++;
          if (matches > 1) withDuplicates++;
        }),
        { numRuns: 200 },
      );
      // The generator does what it is for: many documents hold the id more than once.
      expect(withDuplicates).toBeGreaterThan(runs / 8);
    });
  });
});
