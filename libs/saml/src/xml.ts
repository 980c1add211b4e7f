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
