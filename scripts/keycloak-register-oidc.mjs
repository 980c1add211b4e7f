#!/usr/bin/env node
// Registers Bridgekeeper as an OpenID Connect client in the dev Keycloak, as an admin would.
// The realm ships the client `bridgekeeper-oidc` for http://localhost:3000 and IdP id
// `keycloak-oidc` (confidential, PKCE S256, back-channel logout, a Group Membership mapper);
// for another public URL or IdP id a client is created from that one, with the URLs changed.
// Prints {"clientId": …, "clientSecret": …, "issuer": …} for the IdP's configuration.
//   node scripts/keycloak-register-oidc.mjs [authPublicUrl] [idpId]           register
//   node scripts/keycloak-register-oidc.mjs --remove authPublicUrl [idpId]    delete a created client
// Env: KEYCLOAK_URL (http://127.0.0.1:8080), KEYCLOAK_REALM (bridgekeeper),
//      KEYCLOAK_ADMIN_USER / KEYCLOAK_ADMIN_PASSWORD (admin/admin).
import { randomBytes } from 'node:crypto';
import KcAdminClient from '@keycloak/keycloak-admin-client';

const args = process.argv.slice(2);
const remove = args[0] === '--remove';
if (remove) args.shift();
const authUrl = (args[0] ?? process.env.AUTH_PUBLIC_URL ?? 'http://localhost:3000').replace(/\/$/, '');
const idp = args[1] ?? 'keycloak-oidc';
const realm = process.env.KEYCLOAK_REALM ?? 'bridgekeeper';
const TEMPLATE = 'bridgekeeper-oidc';
const isTemplate = authUrl === 'http://localhost:3000' && idp === 'keycloak-oidc';
const clientId = isTemplate ? TEMPLATE : `bridgekeeper-oidc-${new URL(authUrl).port || 'default'}-${idp}`;

const kc = new KcAdminClient({ baseUrl: process.env.KEYCLOAK_URL ?? 'http://127.0.0.1:8080', realmName: 'master' });
await kc.auth({
  grantType: 'password',
  clientId: 'admin-cli',
  username: process.env.KEYCLOAK_ADMIN_USER ?? 'admin',
  password: process.env.KEYCLOAK_ADMIN_PASSWORD ?? 'admin',
});
kc.setConfig({ realmName: realm });

let [client] = await kc.clients.find({ clientId });
if (remove) {
  if (client?.id && !isTemplate) await kc.clients.del({ id: client.id });
  process.exit(0);
}
if (!client) {
  const [template] = await kc.clients.find({ clientId: TEMPLATE });
  if (!template) throw new Error(`realm ${realm} has no OIDC client ${TEMPLATE} to copy`);
  const swap = (v) => (typeof v === 'string' ? v.split('http://localhost:3000').join(authUrl).split('/oidc/keycloak-oidc/').join(`/oidc/${idp}/`) : v);
  const { id: _id, protocolMappers, secret: _secret, ...rest } = template;
  await kc.clients.create({
    ...rest,
    clientId,
    secret: randomBytes(24).toString('base64url'),
    redirectUris: (template.redirectUris ?? []).map(swap),
    webOrigins: (template.webOrigins ?? []).map(swap),
    attributes: Object.fromEntries(Object.entries(template.attributes ?? {}).map(([k, v]) => [k, swap(v)])),
    protocolMappers: (protocolMappers ?? []).map(({ id: _mid, ...m }) => m),
  });
  [client] = await kc.clients.find({ clientId });
  console.error(`created Keycloak OIDC client ${clientId}`);
}
const { value: clientSecret } = await kc.clients.getClientSecret({ id: client.id });
const issuer = `${(process.env.KEYCLOAK_PUBLIC_URL ?? 'http://localhost:8080').replace(/\/$/, '')}/realms/${realm}`;
console.log(JSON.stringify({ clientId, clientSecret, issuer }));
