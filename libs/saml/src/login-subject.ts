import { NAMEID_UNSPECIFIED } from '@bridgekeeper/saml-assertion';
import { SamlValidationError } from './errors';

export const NAMEID_TRANSIENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient';

/** How an IdP's logins are keyed: the NameID format the SP asks for, and an attribute that keys users instead of the NameID. */
export interface SubjectPolicy {
  /** The NameID format the AuthnRequest asks for (the IdP's `nameIdFormat`); null or unspecified: any. */
  requestedFormat?: string | null;
  /** The attribute whose one value identifies the user (the IdP's `subjectAttribute`); null: the NameID. */
  subjectAttribute?: string | null;
}

/**
 * Who a verified assertion says signed in, as the directory keys them. The NameID must be in the
 * format the SP asked for (when it asked for one). A transient NameID is never an identity (it
 * changes at every login): with a `subjectAttribute` the user is keyed on that attribute (for
 * every login of the IdP, whatever the NameID's format), otherwise the login is refused with what
 * to change at the IdP or here. The messages are for the login trace (admins), not for the page.
 */
export function loginSubject(login: { nameId: string; nameIdFormat?: string | null; attributes: Record<string, string[]> }, policy: SubjectPolicy): { subject: string; subjectFormat: string } {
  const format = login.nameIdFormat || NAMEID_UNSPECIFIED;
  const wanted = policy.requestedFormat;
  if (wanted && wanted !== NAMEID_UNSPECIFIED && format !== wanted) {
    throw new SamlValidationError(
      'name_id_format',
      `the IdP sent a NameID in format ${format}, but this service provider asked for ${wanted} (the IdP's nameIdFormat setting here): make the IdP release a ${wanted} NameID, or change nameIdFormat to the format it sends`,
    );
  }
  const attribute = policy.subjectAttribute;
  if (attribute) {
    const values = Object.prototype.hasOwnProperty.call(login.attributes, attribute) ? [...new Set(login.attributes[attribute].map((v) => v.trim()).filter(Boolean))] : [];
    if (values.length !== 1) {
      throw new SamlValidationError(
        'subject_attribute',
        `users of this IdP are keyed on the attribute ${attribute} (subjectAttribute), but the assertion carries ${values.length === 0 ? 'no value of it' : `${values.length} different values of it`}: make the IdP send exactly one ${attribute} value, or change subjectAttribute`,
      );
    }
    return { subject: values[0], subjectFormat: `attribute:${attribute}` };
  }
  if (format === NAMEID_TRANSIENT) {
    throw new SamlValidationError(
      'name_id_transient',
      `the IdP sent a transient NameID, which changes at every login and cannot identify a user (each login would make a new one): make the IdP send a persistent (or unspecified) NameID that stays the same for the person, or set subjectAttribute on this IdP to an attribute that carries a stable id`,
    );
  }
  return { subject: login.nameId, subjectFormat: format };
}
