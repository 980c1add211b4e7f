import { AssertionContent, loginSubject, readAssertion, samlXmlFrom, SubjectPolicy } from '@bridgekeeper/saml-assertion';

export type KeyedLogin = { subject: string; subjectFormat: string; attributes: Record<string, string[]> };

/**
 * A SAML assertion (or a Response holding one, as XML or as the base64 SAMLResponse the ACS takes)
 * read for the mapping simulator by the same reader as a login's: its NameID and format, and its
 * attributes. Throws an Error saying what is wrong with the document. Nothing here checks
 * signatures — logins go through auth.
 */
export const readSamlLogin = (xmlOrBase64: string): AssertionContent => readAssertion(samlXmlFrom(xmlOrBase64));

/**
 * Who the read assertion says signed in, keyed by the login's rule under the IdP's policy (its
 * NameID format and subjectAttribute): a transient NameID, a NameID in another format than asked
 * for, or a missing subjectAttribute throw the SubjectRefusal a login would be refused with. The
 * subject's format comes along, so the username fallbacks read it as a login does (a persistent
 * NameID or an attribute-keyed id names nobody).
 */
export const keyedLogin = (content: AssertionContent, policy: SubjectPolicy = {}): KeyedLogin => ({
  ...loginSubject(content, policy),
  attributes: content.attributes,
});
