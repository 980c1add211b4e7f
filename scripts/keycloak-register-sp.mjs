#!/usr/bin/env node
// Puts Bridgekeeper's SAML signing certificate into the Keycloak client, as an admin would on the
// client's "Keys" tab: Keycloak then verifies the AuthnRequests Bridgekeeper signs.
//   node scripts/keycloak-register-sp.mjs [authPublicUrl] [idpId]
// Env: KEYCLOAK_URL (http://127.0.0.1:8080), KEYCLOAK_REALM (bridgekeeper),
//      KEYCLOAK_ADMIN_USER / KEYCLOAK_ADMIN_PASSWORD (admin/admin).
import KcAdminClient from '@keycloak/keycloak-admin-client';

const authUrl = (process.argv[2] ?? process.env.AUTH_PUBLIC_URL ?? 'http://localhost:3000').replace(/\/$/, '');
const idp = process.argv[3] ?? 'keycloak';
const realm = process.env.KEYCLOAK_REALM ?? 'bridgekeeper';
const fetchUrl = (process.env.AUTH_INTERNAL_URL ?? authUrl.replace('//localhost', '//127.0.0.1')).replace(/\/$/, '');

const metadataRes = await fetch(`${fetchUrl}/saml/${idp}/metadata`);
if (!metadataRes.ok) throw new Error(`auth answered ${metadataRes.status} for its SP metadata`);
const metadata = await metadataRes.text();
const entityId = metadata.match(/entityID="([^"]+)"/)?.[1];
const cert = metadata.match(/<ds:X509Certificate>([^<]+)<\/ds:X509Certificate>/)?.[1]?.replace(/\s+/g, '');
if (!entityId || !cert) throw new Error('the SP metadata has no entityID or signing certificate');

const kc = new KcAdminClient({ baseUrl: process.env.KEYCLOAK_URL ?? 'http://127.0.0.1:8080', realmName: 'master' });
await kc.auth({
  grantType: 'password',
  clientId: 'admin-cli',
  username: process.env.KEYCLOAK_ADMIN_USER ?? 'admin',
  password: process.env.KEYCLOAK_ADMIN_PASSWORD ?? 'admin',
});
kc.setConfig({ realmName: realm });
const [client] = await kc.clients.find({ clientId: entityId });
if (!client?.id) throw new Error(`realm ${realm} has no SAML client ${entityId}`);
if (client.attributes?.['saml.signing.certificate'] === cert) {
  console.log(`Keycloak client ${entityId} already trusts this signing certificate`);
} else {
  await kc.clients.update({ id: client.id }, { ...client, attributes: { ...client.attributes, 'saml.signing.certificate': cert } });
  console.log(`Keycloak client ${entityId} now verifies AuthnRequests with Bridgekeeper's certificate`);
}
