import { SamlValidationError } from './errors';
import { attr, checkXmlLimits, children, childText, descendants, nodes, NS, parseXml } from './xml';

/** Signature and digest algorithms accepted; SHA-1 is refused. */
export const ALLOWED_SIGNATURE_ALGORITHMS = new Set([
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha384',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256',
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384',
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512',
]);
export const ALLOWED_DIGEST_ALGORITHMS = new Set([
  'http://www.w3.org/2001/04/xmlenc#sha256',
  'http://www.w3.org/2001/04/xmldsig-more#sha384',
  'http://www.w3.org/2001/04/xmlenc#sha512',
]);

export interface ResponseExpectations {
  acsUrl: string;
  idpEntityId: string;
  clockSkewMs: number;
  /** The oldest IssueInstant accepted (Response and assertion), besides the clock skew. */
  maxAssertionAgeMs: number;
  now?: Date;
}

/**
 * Checks node-saml leaves to the application, on the raw Response (before node-saml: depth and
 * element count, DTDs, comments, algorithms, one assertion) and on the verified assertion (after
 * node-saml: Destination, Issuer, IssueInstant, Recipient, SubjectConfirmationData expiry).
 */
export function precheckResponse(xml: string): Document {
  checkXmlLimits(xml);
  // Comments split text nodes without breaking exclusive-c14n signatures: `alice<!---->.evil`
  // signs as one value and may be read as another. IdPs do not send comments; refuse them.
  if (xml.includes('<!--')) throw new SamlValidationError('malformed', 'the response holds XML comments, which are refused');
  const doc = parseXml(xml);
  const root = doc.documentElement;
  if (root.localName !== 'Response' || root.namespaceURI !== 'urn:oasis:names:tc:SAML:2.0:protocol') {
    throw new SamlValidationError('malformed', 'the message is not a SAML 2.0 Response');
  }
  checkSignatureAlgorithms(doc);
  const assertions = descendants(doc, NS.saml, 'Assertion').length + descendants(doc, NS.saml, 'EncryptedAssertion').length;
  if (assertions > 1) throw new SamlValidationError('malformed', `the response holds ${assertions} assertions; exactly one is accepted`);
  return doc;
}

/** What the verified assertion says about itself, read in the same pass as the checks. */
export interface VerifiedAssertionFacts {
  id: string;
  notOnOrAfter?: Date;
  /** InResponseTo on the Response element (null when absent). */
  responseInResponseTo: string | null;
  /** InResponseTo on the bearer SubjectConfirmationData that passed (null when absent). */
  subjectInResponseTo: string | null;
  /** The verified assertion, parsed once here, for the reader of its subject and attributes. */
  assertion: Element;
}

/**
 * Every signature's SignatureMethod and Reference DigestMethod on the allow-list. (DigestMethod
 * elsewhere, such as RSA-OAEP's inside an EncryptedKey, is key transport, not a signature.)
 */
export function checkSignatureAlgorithms(ctx: Document | Element): void {
  for (const signedInfo of descendants(ctx, NS.ds, 'SignedInfo')) {
    const parent = signedInfo.parentNode as Element | null;
    if (parent?.localName !== 'Signature' || parent.namespaceURI !== NS.ds) continue;
    for (const m of children(signedInfo, NS.ds, 'SignatureMethod')) {
      const alg = attr(m, 'Algorithm') ?? '';
      if (!ALLOWED_SIGNATURE_ALGORITHMS.has(alg)) throw new SamlValidationError('algorithm', `signature algorithm ${alg || '(none)'} is refused`);
    }
    for (const ref of children(signedInfo, NS.ds, 'Reference')) {
      for (const m of children(ref, NS.ds, 'DigestMethod')) {
        const alg = attr(m, 'Algorithm') ?? '';
        if (!ALLOWED_DIGEST_ALGORITHMS.has(alg)) throw new SamlValidationError('algorithm', `digest algorithm ${alg || '(none)'} is refused`);
      }
    }
  }
}

export function checkVerifiedResponse(doc: Document, assertionXml: string, expect: ResponseExpectations): VerifiedAssertionFacts {
  const root = doc.documentElement;
  const destination = attr(root, 'Destination');
  if (destination !== expect.acsUrl) {
    throw new SamlValidationError('destination', `the response is addressed to ${destination ?? '(no Destination)'}, not to ${expect.acsUrl}`);
  }
  const responseIssuer = childText(root, NS.saml, 'Issuer');
  if (responseIssuer !== undefined && responseIssuer !== expect.idpEntityId) {
    throw new SamlValidationError('issuer', `the response was issued by ${responseIssuer}, not by ${expect.idpEntityId}`);
  }
  const assertion = parseXml(assertionXml).documentElement;
  // An encrypted assertion's own signature was out of sight before decryption.
  checkSignatureAlgorithms(assertion);
  const assertionIssuer = childText(assertion, NS.saml, 'Issuer');
  if (assertionIssuer !== expect.idpEntityId) {
    throw new SamlValidationError('issuer', `the assertion was issued by ${assertionIssuer ?? '(no Issuer)'}, not by ${expect.idpEntityId}`);
  }
  const now = (expect.now ?? new Date()).getTime();
  checkIssueInstant(root, 'response', now, expect);
  checkIssueInstant(assertion, 'assertion', now, expect);
  const confirmations = children(assertion, NS.saml, 'Subject')
    .flatMap((subject) => children(subject, NS.saml, 'SubjectConfirmation'))
    .filter((c) => attr(c, 'Method') === 'urn:oasis:names:tc:SAML:2.0:cm:bearer')
    .flatMap((c) => children(c, NS.saml, 'SubjectConfirmationData'));
  if (confirmations.length === 0) throw new SamlValidationError('recipient', 'the assertion has no bearer SubjectConfirmationData');
  const passed = confirmations.find((c) => {
    const recipient = attr(c, 'Recipient');
    const notOnOrAfter = Date.parse(attr(c, 'NotOnOrAfter') ?? '');
    return recipient === expect.acsUrl && Number.isFinite(notOnOrAfter) && now < notOnOrAfter + expect.clockSkewMs;
  });
  if (!passed) {
    const c = confirmations[0];
    const recipient = attr(c, 'Recipient');
    if (recipient !== expect.acsUrl) throw new SamlValidationError('recipient', `the assertion's Recipient is ${recipient ?? '(none)'}, not ${expect.acsUrl}`);
    throw new SamlValidationError('expired', `the assertion's SubjectConfirmationData expired or has no NotOnOrAfter (${attr(c, 'NotOnOrAfter') ?? 'none'})`);
  }
  const id = attr(assertion, 'ID');
  if (!id) throw new SamlValidationError('malformed', 'the assertion has no ID');
  const until = attr(children(assertion, NS.saml, 'Conditions')[0], 'NotOnOrAfter');
  return {
    id,
    notOnOrAfter: until ? new Date(until) : undefined,
    responseInResponseTo: attr(root, 'InResponseTo') || null,
    subjectInResponseTo: attr(passed, 'InResponseTo') || null,
    assertion,
  };
}

/** xs:dateTime with its time zone (SAML times are UTC, `Z`): a bare local time would depend on the host. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** A SAML time (xs:dateTime with its zone) in milliseconds, or NaN. */
export const samlInstant = (raw: string | null | undefined): number => (raw && DATE_TIME.test(raw) ? Date.parse(raw) : NaN);

/**
 * IssueInstant no older than the maximum assertion age and not in the future (each give or take
 * the clock skew). An answer to a login started here is issued after the request, so an older one
 * answers nothing alive: the default maximum is the login request's lifetime.
 */
export function checkIssueInstant(
  el: Element,
  what: 'response' | 'assertion',
  now: number,
  expect: Pick<ResponseExpectations, 'clockSkewMs' | 'maxAssertionAgeMs'>,
): void {
  const raw = attr(el, 'IssueInstant') ?? '';
  const issued = samlInstant(raw);
  if (!Number.isFinite(issued)) throw new SamlValidationError('malformed', `the ${what} has no valid IssueInstant (${raw.slice(0, 40) || 'none'})`);
  if (issued > now + expect.clockSkewMs) {
    throw new SamlValidationError(
      'issued_in_future',
      `the ${what} was issued at ${raw}, ${Math.round((issued - now) / 1000)} s in the future (clock skew ${expect.clockSkewMs / 1000} s)`,
    );
  }
  if (issued < now - expect.maxAssertionAgeMs - expect.clockSkewMs) {
    throw new SamlValidationError(
      'too_old',
      `the ${what} was issued at ${raw}, ${Math.round((now - issued) / 1000)} s ago (maximum assertion age ${expect.maxAssertionAgeMs / 1000} s, clock skew ${expect.clockSkewMs / 1000} s)`,
    );
  }
}

/** Why an unsigned logout message is refused, in words the IdP's admin can act on. */
export function logoutNotSigned(kind: 'LogoutRequest' | 'LogoutResponse'): string {
  return `the ${kind} is not signed; logout messages must be signed: turn on signing of single logout messages (requests and responses) at the IdP`;
}

/** A POSTed logout message: no DTD, allowed algorithms only, signed at the root, addressed to us. */
export function precheckLogout(xml: string, sloUrl: string): { inResponseTo: string | null } {
  checkXmlLimits(xml);
  const doc = parseXml(xml);
  const root = doc.documentElement;
  if (!['LogoutRequest', 'LogoutResponse'].includes(root.localName) || root.namespaceURI !== 'urn:oasis:names:tc:SAML:2.0:protocol') {
    throw new SamlValidationError('malformed', 'the message is not a SAML 2.0 LogoutRequest or LogoutResponse');
  }
  const destination = attr(root, 'Destination');
  if (destination !== null && destination !== sloUrl)
    throw new SamlValidationError('destination', `the logout message is addressed to ${destination}, not to ${sloUrl}`);
  checkSignatureAlgorithms(doc);
  if (nodes('/*/ds:Signature', doc).length === 0)
    throw new SamlValidationError('signature', logoutNotSigned(root.localName as 'LogoutRequest' | 'LogoutResponse'));
  return { inResponseTo: attr(root, 'InResponseTo') };
}
