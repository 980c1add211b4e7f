import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { samlValidationDependencies } from '@bridgekeeper/testing';

/**
 * @xmldom/xmldom 0.8, under node-saml and xml-crypto, is installed with a performance patch
 * (patches/README.md): it clones faster (xml-crypto deep-clones every node it canonicalizes). These
 * tests find the copies SAML validation really loads, check that each carries its patch, and that
 * it behaves as before: a deep clone is the same tree (names, namespaces, attributes, text,
 * comments, every scalar property). 0.9, which Bridgekeeper's own checks parse with (`parseXml`),
 * is installed as published (its end-tag patch did not earn its place); its end tags are accepted
 * and refused as the tests below say. Apart from the patch markers, the tests pass on unpatched
 * files too.
 */
const { fromNodeSaml, fromXmlCrypto } = samlValidationDependencies();
const copies = {
  "node-saml's xmldom": fromNodeSaml.resolve('@xmldom/xmldom'),
  "xml-crypto's xmldom": fromXmlCrypto.resolve('@xmldom/xmldom'),
};

const xml = [
  '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_r" Version="2.0">',
  '<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:xs="http://www.w3.org/2001/XMLSchema" ID="_a">',
  '<!-- a comment --><saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified">alice &amp; bob</saml:NameID></saml:Subject>',
  '<saml:Attribute Name="groups"><saml:AttributeValue xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="xs:string">/staff</saml:AttributeValue></saml:Attribute>',
  '<default xmlns="urn:example:default" a="1"><![CDATA[<raw>]]></default>',
  '</saml:Assertion></samlp:Response>',
].join('');

describe.each(Object.entries(copies))('%s', (_name, file) => {
  const xmldom = require(file) as typeof import('@xmldom/xmldom');

  it('carries the performance patch (pnpm applied patches/@xmldom__xmldom@<version>.patch)', () => {
    const source = readFileSync(`${dirname(file)}/dom.js`, 'utf8');
    expect(source.match(/Bridgekeeper patch/g)).toHaveLength(1);
    expect(source).toContain('var keys = Object.keys(srcNode);');
  });

  it('deep-clones a tree exactly: the same serialization and the same scalar properties, node by node', () => {
    const doc = new xmldom.DOMParser().parseFromString(xml, 'text/xml');
    const serialize = (n: unknown) =>
      new xmldom.XMLSerializer().serializeToString(n as Parameters<InstanceType<typeof xmldom.XMLSerializer>['serializeToString']>[0]);
    for (const source of [doc.documentElement, doc.getElementsByTagNameNS('urn:oasis:names:tc:SAML:2.0:assertion', 'Assertion')[0]]) {
      const clone = source!.cloneNode(true);
      expect(serialize(clone)).toBe(serialize(source));
      expect(clone).not.toBe(source);
      const walk = (a: Node, b: Node) => {
        for (const key of Object.keys(a)) {
          const value = (a as unknown as Record<string, unknown>)[key];
          // Loosely equal, as cloneNode itself compares (an undefined namespace stays the prototype's null).
          if (typeof value !== 'object') expect([key, (b as unknown as Record<string, unknown>)[key] == value]).toEqual([key, true]);
        }
        const attrs = (a as Element).attributes;
        for (let i = 0; attrs && i < attrs.length; i++) walk(attrs.item(i)!, (b as Element).attributes.item(i)!);
        expect(b.childNodes?.length).toBe(a.childNodes?.length);
        for (let i = 0; i < (a.childNodes?.length ?? 0); i++) walk(a.childNodes[i], b.childNodes[i]);
      };
      walk(source as unknown as Node, clone as unknown as Node);
    }
  });
});

describe("libs/saml's own xmldom (parseXml)", () => {
  const file = createRequire(__filename).resolve('@xmldom/xmldom');
  const xmldom = require(file) as typeof import('@xmldom/xmldom');
  const parse = (text: string) => {
    const errors: string[] = [];
    let root: string | undefined;
    try {
      root = new xmldom.DOMParser({ onError: (level, msg) => void (level !== 'warning' && errors.push(msg)) }).parseFromString(text, 'text/xml').documentElement
        ?.tagName;
    } catch (err) {
      errors.push((err as Error).message);
    }
    return { root, errors };
  };

  it('is installed as published: its end-tag patch was dropped (it saved about 1 % of a validation: patches/README.md)', () => {
    expect(readFileSync(`${dirname(file)}/sax.js`, 'utf8')).not.toContain('Bridgekeeper patch');
  });

  it('accepts and refuses end tags as before', () => {
    expect(parse('<saml:A xmlns:saml="urn:x"><b>t</b ></saml:A>')).toEqual({ root: 'saml:A', errors: [] });
    expect(parse('<a><b>t</b></a>\n')).toEqual({ root: 'a', errors: [] });
    expect(parse('<a><b>t</c></a>').errors.join()).toMatch(/Opening and ending tag mismatch: "b" != "c"/);
    expect(parse('<a><b>t</b x></a>').errors.join()).toMatch(/end tag name contains invalid characters/);
    expect(parse('<a><b>t</b\nx></a>').errors.join()).toMatch(/end tag name is followed by a line break and trailing content/);
    expect(parse('<a><b>t</></a>').errors.join()).toMatch(/end tag name missing|invalid characters/);
  });
});
