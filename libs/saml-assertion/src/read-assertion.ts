import { DOMParser } from '@xmldom/xmldom';

const SAML = 'urn:oasis:names:tc:SAML:2.0:assertion';

/** What a SAML assertion says about its subject: the NameID (and its format) and the attributes. */
export interface AssertionContent {
  nameId: string;
  /** The NameID's Format; SAML's default, `unspecified`, when it names none. */
  nameIdFormat: string;
  /** Every value of every attribute, by name; an attribute sent as several elements keeps all their values, in order. */
  attributes: Record<string, string[]>;
}

export const NAMEID_UNSPECIFIED = 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified';

/**
 * The subject and attributes of a SAML assertion (or of the Response holding it): the one reader
 * both the login (over the assertion whose signature it verified) and the mapping simulator use,
 * so they cannot disagree. Attributes repeated as several `<Attribute Name="x">` elements are
 * merged (samlify and several enterprise IdPs send one element per value). Nothing here checks a
 * signature. Prototype keys (`__proto__`, …) are dropped.
 */
export function readAssertion(xml: string): AssertionContent {
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw new Error('the XML holds a DTD, which is refused');
  let doc: Document;
  try {
    doc = new DOMParser({ onError: () => undefined }).parseFromString(xml, 'text/xml') as unknown as Document;
  } catch (err) {
    throw new Error(`the XML is not well-formed: ${(err as Error).message}`);
  }
  const assertions = doc?.getElementsByTagNameNS(SAML, 'Assertion');
  // A login refuses a response with more than one assertion (signature wrapping): so does the reader.
  if (assertions && assertions.length > 1) throw new Error(`the XML holds ${assertions.length} Assertions; a login refuses any response with more than one`);
  const assertion = assertions?.[0];
  if (!assertion) {
    if (doc?.getElementsByTagNameNS(SAML, 'EncryptedAssertion')[0])
      throw new Error('the assertion is encrypted, so it cannot be read here (replay the login from its trace instead)');
    throw new Error('the XML holds no SAML 2.0 Assertion');
  }
  return readAssertionElement(assertion);
}

/**
 * The subject and attributes of an assertion already parsed (the login's verified assertion, parsed
 * once for its checks): the same reading as `readAssertion`.
 */
export function readAssertionElement(assertion: Element): AssertionContent {
  const { nameId, ...rest } = readSubjectElement(assertion);
  if (nameId === null) throw new Error('the assertion has no NameID');
  return { nameId, ...rest };
}

/**
 * As `readAssertionElement`, with no NameID (none, an empty one, or an EncryptedID or BaseID
 * instead) as null rather than an error: the login takes node-saml's (which opens an EncryptedID)
 * then, and compares the two when both read one.
 */
export function readSubjectElement(assertion: Element): Omit<AssertionContent, 'nameId'> & { nameId: string | null } {
  const subjects = childrenOf(assertion, 'Subject');
  // What a namespace-blind reader (node-saml's) would take for the NameID must be the SAML NameID
  // itself, holding text only: otherwise two readers see two different people.
  const first = subjects.flatMap((s) => elementChildren(s)).find((e) => e.localName === 'NameID');
  if (first && first.namespaceURI !== SAML)
    throw new NameIdUnreadable(`the Subject's first NameID is in namespace ${first.namespaceURI ?? '(none)'}, not SAML's`);
  const nameIdElement = subjects.flatMap((s) => childrenOf(s, 'NameID'))[0];
  if (nameIdElement && elementChildren(nameIdElement).length > 0) throw new NameIdUnreadable('the NameID holds markup, not only text');
  // As sent, never trimmed: the login keys on node-saml's reading of the NameID, which keeps its
  // whitespace, and the simulator must key on the same string.
  const text = nameIdElement?.textContent ?? '';
  const nameId = nameIdElement && text.trim() ? text : null;
  const attributes: Record<string, string[]> = {};
  for (const statement of childrenOf(assertion, 'AttributeStatement')) {
    for (const attribute of childrenOf(statement, 'Attribute')) {
      const name = attribute.getAttribute('Name');
      if (!name || name === '__proto__' || name === 'constructor' || name === 'prototype') continue;
      const values = childrenOf(attribute, 'AttributeValue').map((v) => v.textContent ?? '');
      const before = Object.prototype.hasOwnProperty.call(attributes, name) ? attributes[name] : [];
      Object.defineProperty(attributes, name, { value: [...before, ...values], enumerable: true, writable: true, configurable: true });
    }
  }
  return { nameId, nameIdFormat: nameIdElement?.getAttribute('Format') || NAMEID_UNSPECIFIED, attributes };
}

/**
 * A SAML Response as an administrator may paste it: the XML itself, or base64 as the browser posts
 * it to the ACS (SAMLResponse). Anything else is refused with what was expected.
 */
export function samlXmlFrom(input: string): string {
  const trimmed = input.trim();
  if (trimmed.startsWith('<')) return trimmed;
  const compact = trimmed.replace(/\s+/g, '');
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(compact) && compact.length % 4 === 0) {
    const decoded = Buffer.from(compact, 'base64').toString('utf8').trim();
    if (decoded.startsWith('<')) return decoded;
  }
  throw new Error('expected SAML XML, or the base64 SAMLResponse posted to the ACS');
}

/** A NameID two readers would read differently (another namespace, markup inside it): refused by the login and the simulator alike. */
export class NameIdUnreadable extends Error {
  constructor(why: string) {
    super(`the assertion's NameID cannot be read one way only: ${why}`);
    this.name = 'NameIdUnreadable';
  }
}

function elementChildren(parent: Element): Element[] {
  const out: Element[] = [];
  for (let node = parent.firstChild; node; node = node.nextSibling) if (node.nodeType === 1) out.push(node as Element);
  return out;
}

function childrenOf(parent: Element, localName: string): Element[] {
  const out: Element[] = [];
  for (let node = parent.firstChild; node; node = node.nextSibling) {
    if (node.nodeType === 1 && (node as Element).namespaceURI === SAML && (node as Element).localName === localName) out.push(node as Element);
  }
  return out;
}
