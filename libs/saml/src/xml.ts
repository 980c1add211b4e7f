import { inflateRawSync } from 'node:zlib';
import { DOMParser } from '@xmldom/xmldom';
import * as xpath from 'xpath';
import { SamlValidationError } from './errors';

export const NS = {
  samlp: 'urn:oasis:names:tc:SAML:2.0:protocol',
  saml: 'urn:oasis:names:tc:SAML:2.0:assertion',
  md: 'urn:oasis:names:tc:SAML:2.0:metadata',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
} as const;

export const select = xpath.useNamespaces(NS);

/** Parses XML, refusing DTDs (entity expansion, external entities) and parse errors. */
export function parseXml(xml: string): Document {
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw new SamlValidationError('dtd_refused', 'the XML holds a DTD, which is refused');
  const errors: string[] = [];
  let doc;
  try {
    doc = new DOMParser({
      onError: (level, msg) => {
        if (level !== 'warning') errors.push(msg);
      },
    }).parseFromString(xml, 'text/xml');
  } catch (err) {
    errors.push(err instanceof Error ? err.message : String(err));
  }
  if (errors.length || !doc?.documentElement) throw new SamlValidationError('malformed', `the XML is not well-formed: ${errors[0] ?? 'empty'}`);
  return doc as unknown as Document;
}

/**
 * The deepest nesting and the most elements a SAML message from outside may hold, checked on the
 * text before anything parses it (our parser, node-saml, xml-crypto): deep nesting makes their
 * recursive walks (c14n, XPath) overflow or crawl, and a body full of tiny elements makes every
 * document-wide scan slow, all before a signature could be checked.
 *
 * Real messages are far from both. Measured on the dev Keycloak 26.5, for a user in 300 groups
 * with 40 mapped attributes: an 80 KB response of 434 elements, nested 6 levels deep (Response ›
 * Assertion › Signature › SignedInfo › Reference › Transforms); encrypted, 7 (Response ›
 * EncryptedAssertion › EncryptedData › KeyInfo › EncryptedKey › CipherData › CipherValue). Each
 * attribute value adds one element of about 200 bytes, so the request body cap (512 KB) lets a
 * Keycloak response carry fewer than 2,000. The limits are ten and five times that.
 */
export const MAX_XML_DEPTH = 64;
export const MAX_XML_ELEMENTS = 10_000;

/**
 * Refuses XML nested deeper than MAX_XML_DEPTH or holding more than MAX_XML_ELEMENTS elements,
 * from a scan of the text (no parse): start tags are counted outside comments, CDATA and
 * processing instructions, with quoted attribute values skipped, the way a parser reads them.
 * Malformed XML is left to the parser, which refuses it.
 */
export function checkXmlLimits(xml: string, limits = { depth: MAX_XML_DEPTH, elements: MAX_XML_ELEMENTS }): void {
  let depth = 0;
  let elements = 0;
  for (let i = xml.indexOf('<'); i !== -1;) {
    const next = xml.charCodeAt(i + 1);
    let end: number;
    if (next === 0x2f /* </ */) {
      depth--;
      end = xml.indexOf('>', i);
    } else if (next === 0x3f /* <? */) {
      end = xml.indexOf('?>', i);
    } else if (next === 0x21 /* <! */) {
      end = xml.startsWith('<!--', i) ? xml.indexOf('-->', i) : xml.startsWith('<![CDATA[', i) ? xml.indexOf(']]>', i) : xml.indexOf('>', i);
    } else {
      end = startTagEnd(xml, i);
      if (++elements > limits.elements) throw new SamlValidationError('too_large', `the XML holds more than ${limits.elements} elements`);
      // A start tag not closed by `/>` opens a level.
      if (end !== -1 && xml.charCodeAt(end - 1) !== 0x2f && ++depth > limits.depth)
        throw new SamlValidationError('too_large', `the XML is nested more than ${limits.depth} levels deep`);
    }
    if (end === -1) return;
    i = xml.indexOf('<', end + 1);
  }
}

/** The `>` that ends the start tag at `from`, outside quoted attribute values; -1 if none. */
function startTagEnd(xml: string, from: number): number {
  for (let j = from + 1; j < xml.length; j++) {
    const c = xml.charCodeAt(j);
    if (c === 0x3e /* > */) return j;
    if (c === 0x22 /* " */ || c === 0x27 /* ' */) {
      j = xml.indexOf(c === 0x22 ? '"' : "'", j + 1);
      if (j === -1) return -1;
    }
  }
  return -1;
}

export function attr(node: unknown, name: string): string | null {
  const el = node as Element | undefined;
  return el && typeof el.getAttribute === 'function' ? el.getAttribute(name) : null;
}

export function nodes(expr: string, ctx: Node): Element[] {
  return select(expr, ctx) as Element[];
}

/** Child elements of `parent` with this namespace and local name (no XPath: a direct walk). */
export function children(parent: Node | null | undefined, ns: string, localName: string): Element[] {
  const out: Element[] = [];
  for (let n = parent?.firstChild ?? null; n; n = n.nextSibling) {
    if (n.nodeType === 1 && (n as Element).localName === localName && (n as Element).namespaceURI === ns) out.push(n as Element);
  }
  return out;
}

/** The trimmed text of the first such child, if any. */
export function childText(parent: Node | null | undefined, ns: string, localName: string): string | undefined {
  return children(parent, ns, localName)[0]?.textContent?.trim() || undefined;
}

/** Descendant elements with this namespace and local name (the DOM's own index, no XPath). */
export function descendants(ctx: Document | Element, ns: string, localName: string): Element[] {
  return Array.from(ctx.getElementsByTagNameNS(ns, localName) as unknown as ArrayLike<Element>);
}

export function text(expr: string, ctx: Node): string | undefined {
  const n = select(expr, ctx, true) as Node | undefined;
  return n?.textContent?.trim() || undefined;
}

/**
 * A SAML message as the login trace keeps it: signature values, certificates and encrypted
 * payloads blanked out, capped in size.
 */
export function redactSamlXml(xml: string, maxChars = 20_000): string {
  const redacted = xml.replace(
    /<((?:\w+:)?(?:SignatureValue|X509Certificate|CipherValue))(\s[^>]*)?>[\s\S]*?<\/\1>/g,
    (_m, tag: string, attrs: string | undefined) => `<${tag}${attrs ?? ''}>[redacted]</${tag}>`,
  );
  return redacted.length > maxChars ? `${redacted.slice(0, maxChars)}… [${redacted.length - maxChars} more characters]` : redacted;
}

/** A base64 SAML message (DEFLATE-compressed for the Redirect binding) as text, capped in size. */
export function decodeSamlMessage(encoded: string, deflated: boolean, maxBytes = 1_000_000): string {
  try {
    const raw = Buffer.from(encoded, 'base64');
    if (!deflated) return raw.subarray(0, maxBytes).toString('utf8');
    return inflateRawSync(raw, { maxOutputLength: maxBytes }).toString('utf8');
  } catch (err) {
    return `[undecodable: ${(err as Error).message}]`;
  }
}
