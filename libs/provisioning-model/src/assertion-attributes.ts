import { loginSubject, readAssertion, samlXmlFrom, SubjectPolicy } from '@bridgekeeper/saml-assertion';

/**
 * The subject and attributes of a SAML assertion (or a Response holding one, as XML or as the
 * base64 SAMLResponse the ACS takes), for the mapping simulator: what mapping would see, read by
 * the same reader as a login's and keyed by the same rule under the IdP's policy (its NameID
 * format and subjectAttribute): a transient NameID, a NameID in another format than asked for, or
 * a missing subjectAttribute throw the SubjectRefusal a login would be refused with. Nothing here
 * checks signatures — logins go through auth.
 */
export function attributesFromAssertion(xmlOrBase64: string, policy: SubjectPolicy = {}): { subject: string; subjectFormat: string; attributes: Record<string, string[]> } {
  const { nameId, nameIdFormat, attributes } = readAssertion(samlXmlFrom(xmlOrBase64));
  // The subject's format too, so the username fallbacks read it as a login does (a persistent NameID or an attribute-keyed id names nobody).
  return { ...loginSubject({ nameId, nameIdFormat, attributes }, policy), attributes };
}
