import { readAssertion, samlXmlFrom } from './read-assertion';

const assertion = (inner: string, nameId = '<saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:transient"> _t1 </saml:NameID>') =>
  `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a"><saml:Subject>${nameId}</saml:Subject><saml:AttributeStatement>${inner}</saml:AttributeStatement></saml:Assertion>`;
const attr = (name: string, ...values: string[]) =>
  `<saml:Attribute Name="${name}">${values.map((v) => `<saml:AttributeValue>${v}</saml:AttributeValue>`).join('')}</saml:Attribute>`;

describe('readAssertion', () => {
  it('refuses an assertion whose NameID is empty or only whitespace', () => {
    expect(() => readAssertion(assertion('', '<saml:NameID> \n </saml:NameID>'))).toThrow('no NameID');
  });

  it('merges an attribute sent as several elements, keeping every value in order', () => {
    const read = readAssertion(assertion(attr('groups', 'a') + attr('email', 'x@y.io') + attr('groups', 'b') + attr('groups', 'c', 'd')));
    expect(read.attributes).toEqual({ groups: ['a', 'b', 'c', 'd'], email: ['x@y.io'] });
  });

  it('reads the NameID as sent (as a login keys it: whitespace kept) and its format; SAML’s default format (unspecified) when none is named', () => {
    expect(readAssertion(assertion(''))).toMatchObject({ nameId: ' _t1 ', nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient' });
    expect(readAssertion(assertion('', '<saml:NameID>bob</saml:NameID>'))).toMatchObject({
      nameId: 'bob',
      nameIdFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
    });
  });

  it('refuses a document with more than one assertion (nested or not), as a login does', () => {
    const nested = assertion(attr('email', 'x@y.io'), '<saml:NameID>bob</saml:NameID>').replace(
      '<saml:Subject>',
      `<saml:Advice><saml:Assertion><saml:Subject><saml:NameID>eve</saml:NameID></saml:Subject><saml:AttributeStatement>${attr('groups', 'admins')}</saml:AttributeStatement></saml:Assertion></saml:Advice><saml:Subject>`,
    );
    expect(() => readAssertion(nested)).toThrow(/2 Assertions; a login refuses/);
    expect(() => readAssertion(`<p:Response xmlns:p="urn:oasis:names:tc:SAML:2.0:protocol">${assertion('')}${assertion('')}</p:Response>`)).toThrow(
      /2 Assertions/,
    );
  });

  it('refuses DTDs, encrypted or missing assertions and a missing NameID; drops prototype keys', () => {
    expect(() => readAssertion(`<!DOCTYPE x>${assertion('')}`)).toThrow(/DTD/);
    expect(() => readAssertion('<x/>')).toThrow(/no SAML 2.0 Assertion/);
    expect(() =>
      readAssertion(
        '<p:Response xmlns:p="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"><saml:EncryptedAssertion/></p:Response>',
      ),
    ).toThrow(/encrypted/);
    expect(() => readAssertion(assertion('', ''))).toThrow(/no NameID/);
    const read = readAssertion(assertion(attr('__proto__', 'x') + attr('constructor', 'y')));
    expect(read.attributes).toEqual({});
    expect(Object.getPrototypeOf(read.attributes)).toBe(Object.prototype);
  });
});

describe('samlXmlFrom', () => {
  it('takes XML as it is, or the base64 SAMLResponse the ACS takes (line breaks allowed)', () => {
    const xml = assertion('');
    expect(samlXmlFrom(`  ${xml}\n`)).toBe(xml);
    const b64 = Buffer.from(xml).toString('base64');
    expect(samlXmlFrom(b64)).toBe(xml);
    expect(samlXmlFrom(b64.replace(/(.{76})/g, '$1\r\n'))).toBe(xml);
  });

  it('refuses what is neither', () => {
    expect(() => samlXmlFrom('hello world')).toThrow(/SAML XML, or the base64 SAMLResponse/);
    expect(() => samlXmlFrom(Buffer.from('hello').toString('base64'))).toThrow(/SAML XML/);
  });
});
