import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  certificateInfo,
  checkXmlLimits,
  normaliseCertificate,
  parseIdpMetadata,
  precheckResponse,
  redactSamlXml,
  SamlValidationError,
  spUrls,
  toPem,
} from './index';

const keycloakMetadata = readFileSync(join(__dirname, '__fixtures__/keycloak-idp-metadata.xml'), 'utf8');

const response = (inner: string, extra = '') =>
  `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" ID="_r" Version="2.0" ${extra}>${inner}</samlp:Response>`;
const signature = (sig: string, digest: string) =>
  `<ds:Signature><ds:SignedInfo><ds:SignatureMethod Algorithm="${sig}"/><ds:Reference><ds:DigestMethod Algorithm="${digest}"/></ds:Reference></ds:SignedInfo></ds:Signature>`;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof SamlValidationError ? err.code : `not a SamlValidationError: ${String(err)}`;
  }
  return undefined;
}

describe('parseIdpMetadata', () => {
  it("reads Keycloak's descriptor", () => {
    const meta = parseIdpMetadata(keycloakMetadata);
    expect(meta.entityId).toBe('http://localhost:8080/realms/bridgekeeper');
    expect(meta.ssoRedirectUrl).toBe('http://localhost:8080/realms/bridgekeeper/protocol/saml');
    expect(meta.ssoPostUrl).toBe('http://localhost:8080/realms/bridgekeeper/protocol/saml');
    expect(meta.signingCertificates).toHaveLength(1);
    expect(meta.wantAuthnRequestsSigned).toBe(true);
    expect(toPem(meta.signingCertificates[0])).toMatch(/^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+\n-----END CERTIFICATE-----\n$/);
  });

  it('refuses a DTD, garbage, and metadata without signing keys', () => {
    expect(codeOf(() => parseIdpMetadata(`<!DOCTYPE x [<!ENTITY e "x">]>${keycloakMetadata}`))).toBe('dtd_refused');
    expect(codeOf(() => parseIdpMetadata('<not-closed'))).toBe('malformed');
    expect(codeOf(() => parseIdpMetadata(keycloakMetadata.replace(/<md:KeyDescriptor[\s\S]*?<\/md:KeyDescriptor>/g, '')))).toBe('malformed');
  });
});

describe('precheckResponse', () => {
  const sha256 = ['http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', 'http://www.w3.org/2001/04/xmlenc#sha256'] as const;

  it('accepts one assertion signed with SHA-256', () => {
    expect(codeOf(() => precheckResponse(response(`<saml:Assertion ID="_a">${signature(...sha256)}</saml:Assertion>`)))).toBeUndefined();
  });

  it('refuses SHA-1 signatures and digests', () => {
    expect(codeOf(() => precheckResponse(response(signature('http://www.w3.org/2000/09/xmldsig#rsa-sha1', sha256[1]))))).toBe('algorithm');
    expect(codeOf(() => precheckResponse(response(signature(sha256[0], 'http://www.w3.org/2000/09/xmldsig#sha1'))))).toBe('algorithm');
  });

  it('refuses DTDs, two assertions and non-Response documents', () => {
    expect(codeOf(() => precheckResponse(`<!DOCTYPE r>${response('')}`))).toBe('dtd_refused');
    expect(codeOf(() => precheckResponse(response('<saml:Assertion ID="_1"/><saml:Assertion ID="_2"/>')))).toBe('malformed');
    expect(codeOf(() => precheckResponse('<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>'))).toBe('malformed');
  });
});

describe('checkXmlLimits', () => {
  const limits = { depth: 3, elements: 5 };
  const check = (xml: string) => codeOf(() => checkXmlLimits(xml, limits));

  it('counts start tags and nesting as a parser reads them', () => {
    expect(check('<a><b><c/></b></a>')).toBeUndefined();
    expect(check('<a><b><c><d/></c></b></a>')).toBeUndefined(); // self-closing opens no level
    expect(check('<a><b><c><d></d></c></b></a>')).toBe('too_large');
    expect(check('<a><b/><b/><b/><b/></a>')).toBeUndefined();
    expect(check('<a><b/><b/><b/><b/><b/></a>')).toBe('too_large');
    // Siblings close their levels again.
    expect(check('<a><b><c></c></b><b><c></c></b></a>')).toBeUndefined();
  });

  it('is not fooled by quoted attribute values, comments, CDATA or processing instructions', () => {
    // `/>` and `>` inside a quoted value do not end the tag: each <b> opens a level.
    expect(check(`<a><b x="/>"><b y='/>'><b z="a>b"></b></b></b></a>`)).toBe('too_large');
    expect(check('<a><!-- <b><b><b><b> --><![CDATA[<b><b><b><b>]]><?pi <b><b><b>?></a>')).toBeUndefined();
  });

  it('leaves malformed XML to the parser', () => {
    expect(check('<a b="unterminated')).toBeUndefined();
    expect(check('text only')).toBeUndefined();
  });

  it('refuses a response over the limits before parsing it', () => {
    const deep = response(`<samlp:Extensions>${'<n>'.repeat(100)}${'</n>'.repeat(100)}</samlp:Extensions>`);
    expect(codeOf(() => precheckResponse(deep))).toBe('too_large');
  });
});

describe('SP URLs and attributes', () => {
  it('derives entity id, ACS and SLO from the public URL', () => {
    expect(spUrls('http://localhost:3000/', 'keycloak')).toEqual({
      entityId: 'http://localhost:3000/saml/keycloak/metadata',
      acs: 'http://localhost:3000/saml/keycloak/acs',
      slo: 'http://localhost:3000/saml/keycloak/slo',
    });
  });
});

describe('certificates', () => {
  const der = parseIdpMetadata(keycloakMetadata).signingCertificates[0];

  it('reads subject, expiry and fingerprint, with a warning window', () => {
    const info = certificateInfo(der, 30, new Date('2026-01-01T00:00:00Z'));
    expect(info.subject).toContain('CN=bridgekeeper');
    expect(info.fingerprintSha256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(info.status).toBe('valid');
    const late = certificateInfo(der, 30, new Date(new Date(info.notAfter).getTime() - 5 * 86_400_000));
    expect(late).toMatchObject({ status: 'expiring', daysLeft: 5 });
    expect(certificateInfo(der, 30, new Date(new Date(info.notAfter).getTime() + 86_400_000)).status).toBe('expired');
  });

  it('accepts PEM or base64 DER and refuses anything else', () => {
    expect(normaliseCertificate(toPem(der))).toBe(der);
    expect(normaliseCertificate(der)).toBe(der);
    expect(() => normaliseCertificate('bm90IGEgY2VydA==')).toThrow(/not a valid X.509/);
  });
});

describe('redactSamlXml', () => {
  it('blanks signature values, certificates and encrypted payloads, and caps the size', () => {
    const xml =
      '<r><ds:SignatureValue>abc</ds:SignatureValue><ds:X509Certificate>MIIC</ds:X509Certificate><xenc:CipherValue Id="1">zzz</xenc:CipherValue><saml:NameID>alice</saml:NameID></r>';
    expect(redactSamlXml(xml)).toBe(
      '<r><ds:SignatureValue>[redacted]</ds:SignatureValue><ds:X509Certificate>[redacted]</ds:X509Certificate><xenc:CipherValue Id="1">[redacted]</xenc:CipherValue><saml:NameID>alice</saml:NameID></r>',
    );
    expect(redactSamlXml('x'.repeat(50), 10)).toBe('xxxxxxxxxx… [40 more characters]');
  });
});
