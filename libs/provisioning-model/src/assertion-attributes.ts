import { readAssertion, samlXmlFrom } from '@bridgekeeper/saml-assertion';

/**
 * The subject and attributes of a SAML assertion (or a Response holding one, as XML or as the
 * base64 SAMLResponse the ACS takes), for the mapping simulator: what mapping would see, read by
 * the same reader as a login's. Nothing here checks signatures — logins go through auth.
 */
export function attributesFromAssertion(xmlOrBase64: string): { subject: string; subjectFormat: string; attributes: Record<string, string[]> } {
  const { nameId, nameIdFormat, attributes } = readAssertion(samlXmlFrom(xmlOrBase64));
  // The NameID's format too, so the username fallbacks read it as a login does (a persistent NameID names nobody).
  return { subject: nameId, subjectFormat: nameIdFormat, attributes };
}
