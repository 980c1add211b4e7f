import { X509Certificate } from 'node:crypto';
import { toPem } from './idp-metadata';
import { children, NS } from './xml';

const fingerprint = (base64Der: string): string | undefined => {
  try {
    return new X509Certificate(toPem(base64Der.replace(/\s+/g, ''))).fingerprint256;
  } catch {
    return undefined;
  }
};

/**
 * Why an assertion's signature was refused, in words an IdP admin can act on (for the login
 * trace only; the visitor's page reads the same for every refusal): the assertion carries no
 * signature (only the Response does, or nothing), or it is signed with a certificate this IdP's
 * configuration does not trust (both fingerprints; the message's own is said to be unverified: the
 * sender chose it), or its signature does not verify with a
 * trusted one (altered after signing). `trusted` are the configured certificates (base64 DER).
 */
export function explainSignatureRefusal(response: Document, assertion: Element | undefined, trusted: string[], original: string): string {
  if (!assertion) return original;
  const signatures = children(assertion, NS.ds, 'Signature');
  const trustedList = trusted.map((c) => fingerprint(c) ?? '(unreadable certificate)').join(', ') || 'none';
  if (signatures.length === 0) {
    const responseSigned = children(response.documentElement, NS.ds, 'Signature').length > 0;
    return `the assertion is not signed${responseSigned ? ' (only the Response is)' : ''}; assertions must be signed: turn on assertion signing at the IdP (Keycloak: the client's "Sign assertions"; ADFS/Entra: sign the assertion, or the assertion and the response)`;
  }
  const keyInfo = children(signatures[0], NS.ds, 'KeyInfo')[0];
  const embedded = children(children(keyInfo, NS.ds, 'X509Data')[0], NS.ds, 'X509Certificate')[0]?.textContent ?? undefined;
  const used = embedded ? fingerprint(embedded) : undefined;
  if (used && !trusted.some((c) => fingerprint(c) === used)) {
    return `the assertion is signed with a key this IdP's configuration does not trust: its KeyInfo names a certificate with fingerprint SHA-256 ${used} (unverified: whoever sent the response chose it, so it proves nothing about who signed) and the configuration trusts ${trustedList}. If the IdP changed its signing key (a rollover), refresh or update this IdP's metadata or certificates; if it did not, someone else signed this response`;
  }
  return `the assertion's signature does not verify with the certificate${trusted.length === 1 ? '' : 's'} this IdP's configuration trusts (fingerprint SHA-256 ${trustedList}): it was altered after signing, or signed with another key (${original})`;
}
