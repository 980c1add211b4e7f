import { DOMParser } from '@xmldom/xmldom';

/**
 * The subject and attributes of a SAML assertion (or a Response holding one), for the mapping
 * simulator: what mapping would see. Nothing here checks signatures — logins go through auth.
 */
export function attributesFromAssertion(xml: string): { subject: string; attributes: Record<string, string[]> } {
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw new Error('the XML holds a DTD, which is refused');
  let doc: Document;
  try {
    doc = new DOMParser({ onError: () => undefined }).parseFromString(xml, 'text/xml') as unknown as Document;
  } catch (err) {
    throw new Error(`the XML is not well-formed: ${(err as Error).message}`);
  }
  const SAML = 'urn:oasis:names:tc:SAML:2.0:assertion';
  const assertion = doc?.getElementsByTagNameNS(SAML, 'Assertion')[0];
  if (!assertion) throw new Error('the XML holds no SAML 2.0 Assertion');
  const subject = assertion.getElementsByTagNameNS(SAML, 'NameID')[0]?.textContent?.trim();
  if (!subject) throw new Error('the assertion has no NameID');
  const attributes: Record<string, string[]> = {};
  const nodes = assertion.getElementsByTagNameNS(SAML, 'Attribute');
  for (let i = 0; i < nodes.length; i++) {
    const name = nodes[i].getAttribute('Name');
    if (!name || name === '__proto__' || name === 'constructor' || name === 'prototype') continue;
    const values = nodes[i].getElementsByTagNameNS(SAML, 'AttributeValue');
    const list: string[] = [];
    for (let j = 0; j < values.length; j++) list.push(values[j].textContent ?? '');
    Object.defineProperty(attributes, name, { value: [...(attributes[name] ?? []), ...list], enumerable: true, writable: true, configurable: true });
  }
  return { subject, attributes };
}
