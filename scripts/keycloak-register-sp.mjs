#!/usr/bin/env node
// Registers Bridgekeeper's SAML service provider in the dev Keycloak, as an admin would:
//  - the realm ships a SAML client for http://localhost:3000; for another public URL a client
//    is created from that one, with the URLs changed;
//  - Bridgekeeper's signing certificate (from its SP metadata) goes into the client's keys, so
//    Keycloak verifies the AuthnRequests Bridgekeeper signs.
//   node scripts/keycloak-register-sp.mjs [authPublicUrl] [idpId]     register / update
//   node scripts/keycloak-register-sp.mjs --remove authPublicUrl [idpId]  delete a created client
// Env: KEYCLOAK_URL (http://127.0.0.1:8080), KEYCLOAK_REALM (bridgekeeper),
//      KEYCLOAK_ADMIN_USER / KEYCLOAK_ADMIN_PASSWORD (admin/admin).
import KcAdminClient from '@keycloak/keycloak-admin-client';

const args = process.argv.slice(2).filter((a) => a !== '--encrypt');
const remove = args[0] === '--remove';
if (remove) args.shift();
const authUrl = (args[0] ?? process.env.AUTH_PUBLIC_URL ?? 'http://localhost:3000').replace(/\/$/, '');
const idp = args[1] ?? 'keycloak';
const realm = process.env.KEYCLOAK_REALM ?? 'bridgekeeper';
const TEMPLATE = 'http://localhost:3000/saml/keycloak/metadata';
const entityId = `${authUrl}/saml/${idp}/metadata`;

const kc = new KcAdminClient({ baseUrl: process.env.KEYCLOAK_URL ?? 'http://127.0.0.1:8080', realmName: 'master' });
await kc.auth({
  grantType: 'password',
  clientId: 'admin-cli',
  username: process.env.KEYCLOAK_ADMIN_USER ?? 'admin',
  password: process.env.KEYCLOAK_ADMIN_PASSWORD ?? 'admin',
});
kc.setConfig({ realmName: realm });

let [client] = await kc.clients.find({ clientId: entityId });
if (remove) {
  if (client?.id && entityId !== TEMPLATE) await kc.clients.del({ id: client.id });
  process.exit(0);
}

if (!client) {
  const [template] = await kc.clients.find({ clientId: TEMPLATE });
  if (!template) throw new Error(`realm ${realm} has no SAML client ${TEMPLATE} to copy`);
  const swap = (v) => (typeof v === 'string' ? v.split('http://localhost:3000').join(authUrl).split('/saml/keycloak/').join(`/saml/${idp}/`) : v);
  const { id: _id, protocolMappers, ...rest } = template;
  await kc.clients.create({
    ...rest,
    clientId: entityId,
    redirectUris: (template.redirectUris ?? []).map(swap),
    attributes: Object.fromEntries(Object.entries(template.attributes ?? {}).map(([k, v]) => [k, swap(v)])),
    protocolMappers: (protocolMappers ?? []).map(({ id: _mid, ...m }) => m),
  });
  [client] = await kc.clients.find({ clientId: entityId });
  console.log(`created Keycloak SAML client ${entityId}`);
}

const fetchBase = (process.env.AUTH_INTERNAL_URL ?? authUrl.replace('//localhost', '//127.0.0.1')).replace(/\/$/, '');
const metadataRes = await fetch(`${fetchBase}/saml/${idp}/metadata`);
if (!metadataRes.ok) throw new Error(`auth answered ${metadataRes.status} for its SP metadata`);
const metadata = await metadataRes.text();
const certOf = (use) =>
  metadata.match(new RegExp(`<KeyDescriptor use="${use}">[\\s\\S]*?<ds:X509Certificate>([^<]+)</ds:X509Certificate>`))?.[1]?.replace(/\s+/g, '');
const cert = certOf('signing');
if (!cert) throw new Error('the SP metadata has no signing certificate');
// --encrypt (or KEYCLOAK_ENCRYPT_ASSERTIONS=true): Keycloak encrypts assertions to Bridgekeeper's encryption certificate.
const encrypt = process.argv.includes('--encrypt') || process.env.KEYCLOAK_ENCRYPT_ASSERTIONS === 'true';
const encryptionCert = certOf('encryption');

// Key transport RSA-OAEP-MGF1P (its OAEP padding digest is SHA-1, as that algorithm defines) with
// AES-256-GCM content, both named explicitly: Bridgekeeper refuses CBC content unless the IdP opts
// in (allowCbcEncryption), and node-saml's decryption opens this pair. (Keycloak 26.5 already picks
// AES-256-GCM when the content algorithm is unset; pinning it keeps a changed default from
// breaking logins.) Signatures stay SHA-256.
const encryption = {
  'saml.encrypt': 'true',
  'saml.encryption.certificate': encryptionCert,
  'saml.encryption.algorithm': 'http://www.w3.org/2009/xmlenc11#aes256-gcm',
  'saml.encryption.keyAlgorithm': 'http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p',
  'saml.encryption.digestMethod': 'http://www.w3.org/2000/09/xmldsig#sha1',
};
const wanted = { 'saml.signing.certificate': cert, ...(encrypt && encryptionCert ? encryption : {}) };
if (Object.entries(wanted).every(([k, v]) => client.attributes?.[k] === v)) {
  console.log(`Keycloak client ${entityId} already trusts Bridgekeeper's certificates`);
} else {
  await kc.clients.update({ id: client.id }, { ...client, attributes: { ...client.attributes, ...wanted } });
  console.log(`Keycloak client ${entityId} now verifies AuthnRequests with Bridgekeeper's certificate${encrypt ? ' and encrypts assertions to it' : ''}`);
}
