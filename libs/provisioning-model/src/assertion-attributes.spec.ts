import { keyedLogin, readSamlLogin } from './assertion-attributes';

const attributesFromAssertion = (xml: string, policy = {}) => keyedLogin(readSamlLogin(xml), policy);

const assertion = (inner: string) =>
  `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a"><saml:Subject><saml:NameID> alice </saml:NameID></saml:Subject><saml:AttributeStatement>${inner}</saml:AttributeStatement></saml:Assertion>`;

describe('attributesFromAssertion', () => {
  it('reads NameID (as sent: a login keys on it whitespace and all) and multi-valued attributes, also inside a Response', () => {
    const xml = `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">${assertion(
      '<saml:Attribute Name="groups"><saml:AttributeValue>/a</saml:AttributeValue><saml:AttributeValue>/b</saml:AttributeValue></saml:Attribute><saml:Attribute Name="email"><saml:AttributeValue>a@x.io</saml:AttributeValue></saml:Attribute>',
    )}</samlp:Response>`;
    expect(attributesFromAssertion(xml)).toEqual({
      subject: ' alice ',
      subjectFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
      attributes: { groups: ['/a', '/b'], email: ['a@x.io'] },
    });
  });

  it("keys the response as the IdP's logins are keyed: its NameID format and subjectAttribute", () => {
    const transient = assertion('<saml:Attribute Name="objectGUID"><saml:AttributeValue>g-1</saml:AttributeValue></saml:Attribute>').replace(
      '<saml:NameID>',
      '<saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:transient">',
    );
    expect(() => attributesFromAssertion(transient)).toThrow(expect.objectContaining({ code: 'name_id_transient' }));
    expect(attributesFromAssertion(transient, { subjectAttribute: 'objectGUID' })).toMatchObject({ subject: 'g-1', subjectFormat: 'attribute:objectGUID' });
    expect(() => attributesFromAssertion(assertion(''), { subjectAttribute: 'objectGUID' })).toThrow(expect.objectContaining({ code: 'subject_attribute' }));
    expect(() => attributesFromAssertion(assertion(''), { requestedFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent' })).toThrow(
      expect.objectContaining({ code: 'name_id_format' }),
    );
  });

  it('refuses DTDs, documents without an assertion or NameID, and prototype keys', () => {
    expect(() => attributesFromAssertion(`<!DOCTYPE x>${assertion('')}`)).toThrow(/DTD/);
    expect(() => attributesFromAssertion('<x/>')).toThrow(/no SAML 2.0 Assertion/);
    expect(() => attributesFromAssertion(assertion('').replace(/<saml:NameID>.*<\/saml:NameID>/, ''))).toThrow(/no NameID/);
    const r = attributesFromAssertion(assertion('<saml:Attribute Name="__proto__"><saml:AttributeValue>x</saml:AttributeValue></saml:Attribute>'));
    expect(r.attributes).toEqual({});
    expect(Object.getPrototypeOf(r.attributes)).toBe(Object.prototype);
  });
});
