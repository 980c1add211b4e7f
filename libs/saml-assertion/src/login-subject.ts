import { NAMEID_UNSPECIFIED } from './read-assertion';

export const NAMEID_TRANSIENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient';

/** How an IdP's logins are keyed: the NameID format the SP asks for, and an attribute that keys users instead of the NameID. */
export interface SubjectPolicy {
  /** The NameID format the AuthnRequest asks for (the IdP's `nameIdFormat`); null or unspecified: any. */
  requestedFormat?: string | null;
  /** The attribute whose one value identifies the user (the IdP's `subjectAttribute`); null: the NameID. */
  subjectAttribute?: string | null;
}

export type SubjectRefusalCode = 'name_id_format' | 'name_id_transient' | 'subject_attribute';

/** A verified assertion that names nobody the directory may key on; `message` is for the login trace (admins). */
export class SubjectRefusal extends Error {
  constructor(
    readonly code: SubjectRefusalCode,
    message: string,
  ) {
    super(message);
    this.name = 'SubjectRefusal';
  }
}

/**
 * Who a verified assertion says signed in, as the directory keys them: the one rule the login and
 * the mapping simulator both apply. The NameID must be in the format the SP asked for (when it
 * asked for one). A transient NameID is never an identity (it changes at every login): with a
 * `subjectAttribute` the user is keyed on that attribute (for every login of the IdP, whatever the
 * NameID's format), otherwise the login is refused with what to change at the IdP or here. The
 * NameID is keyed exactly as sent (never trimmed: a login and the simulator must agree on it).
 */
export function loginSubject(
  login: { nameId: string; nameIdFormat?: string | null; attributes: Record<string, string[]> },
  policy: SubjectPolicy,
): { subject: string; subjectFormat: string } {
  const format = login.nameIdFormat || NAMEID_UNSPECIFIED;
  const wanted = policy.requestedFormat;
  if (wanted && wanted !== NAMEID_UNSPECIFIED && format !== wanted) {
    throw new SubjectRefusal(
      'name_id_format',
      `the IdP sent a NameID in format ${format}, but this service provider asked for ${wanted} (the IdP's nameIdFormat setting here): make the IdP release a ${wanted} NameID, or change nameIdFormat to the format it sends`,
    );
  }
  const attribute = policy.subjectAttribute;
  if (attribute) {
    const values = Object.prototype.hasOwnProperty.call(login.attributes, attribute)
      ? [...new Set(login.attributes[attribute].map((v) => v.trim()).filter(Boolean))]
      : [];
    if (values.length !== 1) {
      throw new SubjectRefusal(
        'subject_attribute',
        `users of this IdP are keyed on the attribute ${attribute} (subjectAttribute), but the assertion carries ${values.length === 0 ? 'no value of it' : `${values.length} different values of it`}: make the IdP send exactly one ${attribute} value, or change subjectAttribute`,
      );
    }
    return { subject: values[0], subjectFormat: `attribute:${attribute}` };
  }
  if (format === NAMEID_TRANSIENT) {
    throw new SubjectRefusal(
      'name_id_transient',
      `the IdP sent a transient NameID, which changes at every login and cannot identify a user (each login would make a new one): make the IdP send a persistent (or unspecified) NameID that stays the same for the person, or set subjectAttribute on this IdP to an attribute that carries a stable id`,
    );
  }
  return { subject: login.nameId, subjectFormat: format };
}

/**
 * Attributes that carry a name or an address (a person's, or one an admin assigns): they change
 * when someone is renamed or marries, and are given to someone else after a person leaves. Keying
 * users on one (subjectAttribute) would hand the next holder the account, so they are refused.
 * Compared without case, `_`, `-` or `.`, as written and as the last part of a claim URI or a
 * dotted name (`User.email`).
 */
const MUTABLE_ATTRIBUTES = new Set(
  [
    'email',
    'mail',
    'emailaddress',
    'primaryemail',
    'upn',
    'userprincipalname',
    'name',
    'displayname',
    'cn',
    'commonname',
    'givenname',
    'firstname',
    'surname',
    'sn',
    'lastname',
    'familyname',
    'fullname',
    'username',
    'preferredusername',
    'login',
    'loginname',
    'nickname',
    'uid',
    'userid',
    'samaccountname',
    'windowsaccountname',
    'accountname',
    'edupersonprincipalname',
    'mobile',
    'telephonenumber',
    'phone',
    'phonenumber',
  ].map(squash),
);

/** The same attributes by their X.500/LDAP, PKCS #9, Active Directory and eduPerson OIDs (`urn:oid:…`), as SAML IdPs often name them. */
const MUTABLE_OIDS = new Set([
  '0.9.2342.19200300.100.1.3', // mail
  '0.9.2342.19200300.100.1.1', // uid
  '0.9.2342.19200300.100.1.41', // mobile
  '1.2.840.113549.1.9.1', // emailAddress (PKCS #9)
  '1.2.840.113556.1.4.656', // userPrincipalName (Active Directory)
  '1.2.840.113556.1.4.221', // sAMAccountName (Active Directory)
  '2.5.4.3', // cn
  '2.5.4.4', // sn
  '2.5.4.42', // givenName
  '2.16.840.1.113730.3.1.241', // displayName
  '1.3.6.1.4.1.5923.1.1.1.6', // eduPersonPrincipalName (may be reassigned)
  '2.5.4.20', // telephoneNumber
]);

function squash(name: string): string {
  return name.toLowerCase().replace(/[_.\-\s]/g, '');
}

/**
 * Why an attribute cannot key users (subjectAttribute), or undefined when nothing says it cannot.
 * Only names known to change or be reassigned are refused: an IdP's own id attributes (SAML
 * subject-id / pairwise-id, Entra's objectidentifier, an object GUID, Keycloak's user id) pass.
 */
export function mutableSubjectAttribute(name: string): string | undefined {
  const lower = name
    .trim()
    .toLowerCase()
    .replace(/[?#].*$/, '');
  const oid = /^(urn:oid:)?([0-9]+(\.[0-9]+)+)$/.exec(lower)?.[2];
  const parts = lower.split(/[/:.]/).filter(Boolean);
  const candidates = [lower, parts[parts.length - 1] ?? lower].map(squash);
  if ((oid && MUTABLE_OIDS.has(oid)) || candidates.some((c) => MUTABLE_ATTRIBUTES.has(c))) {
    return `${name} carries a name or an address, which changes (a rename, a new address) and is given to someone else after a person leaves: keyed on it, the next holder would inherit the account. Key users on an id the IdP assigns once and never reuses, such as urn:oasis:names:tc:SAML:attribute:subject-id or pairwise-id, Entra ID's http://schemas.microsoft.com/identity/claims/objectidentifier, an object GUID, or Keycloak's user id`;
  }
  return undefined;
}
