import type KcAdminClient from '@keycloak/keycloak-admin-client';

/**
 * What User Sync's changes runs need of a realm, as keycloak/realm-bridgekeeper.json sets up:
 * admin events saved, and the sync client's service account holding realm-management's
 * view-events role. For realms made without them (a bench realm, one imported by an older checkout).
 */
export async function saveAdminEventsFor(kc: KcAdminClient, realm: string, syncClientId: string): Promise<void> {
  const events = await kc.realms.getConfigEvents({ realm });
  if (!events.adminEventsEnabled) await kc.realms.updateConfigEvents({ realm }, { ...events, adminEventsEnabled: true });
  const [client] = await kc.clients.find({ realm, clientId: syncClientId });
  const [management] = await kc.clients.find({ realm, clientId: 'realm-management' });
  const account = await kc.clients.getServiceAccountUser({ realm, id: client.id! });
  const role = await kc.clients.findRole({ realm, id: management.id!, roleName: 'view-events' });
  if (!role) throw new Error(`realm ${realm}: realm-management has no view-events role`);
  await kc.users.addClientRoleMappings({ realm, id: account.id!, clientUniqueId: management.id!, roles: [{ id: role.id!, name: 'view-events' }] });
}
