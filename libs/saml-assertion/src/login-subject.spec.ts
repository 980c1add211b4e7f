import { loginSubject, mutableSubjectAttribute, NAMEID_TRANSIENT, SubjectRefusal } from './login-subject';

describe('mutableSubjectAttribute', () => {
  it.each([
    'email',
    'Mail',
    'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
    'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn',
    'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name',
    'preferred_username',
    'uid',
    'urn:oid:0.9.2342.19200300.100.1.3',
    'urn:oid:1.3.6.1.4.1.5923.1.1.1.6',
    'sAMAccountName',
    ' username ',
    'urn:oid:1.2.840.113549.1.9.1',
    'urn:oid:1.2.840.113556.1.4.656',
    'urn:oid:1.2.840.113556.1.4.221',
    'urn:oid:0.9.2342.19200300.100.1.41',
    '1.2.840.113549.1.9.1',
    'User.email',
    'user.userName',
    'email_address',
    'primaryEmail',
    'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress?x',
    'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress/',
    'given-name',
  ])('refuses %s, a name or address that changes or is reassigned, naming ids to use instead', (name) => {
    expect(mutableSubjectAttribute(name)).toMatch(/next holder would inherit the account[\s\S]*subject-id/);
  });

  it.each([
    'urn:oasis:names:tc:SAML:attribute:subject-id',
    'urn:oasis:names:tc:SAML:attribute:pairwise-id',
    'http://schemas.microsoft.com/identity/claims/objectidentifier',
    'objectGUID',
    'employeeNumber',
    'keycloak-id',
  ])('lets %s, an id the IdP assigns, key users', (name) => {
    expect(mutableSubjectAttribute(name)).toBeUndefined();
  });
});

describe('loginSubject (the rule the login and the simulator share)', () => {
  it('keys on the NameID as sent, or refuses a transient one with a SubjectRefusal', () => {
    expect(loginSubject({ nameId: ' p-1 ', attributes: {} }, {})).toEqual({
      subject: ' p-1 ',
      subjectFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
    });
    expect(() => loginSubject({ nameId: '_t', nameIdFormat: NAMEID_TRANSIENT, attributes: {} }, {})).toThrow(SubjectRefusal);
  });
});
