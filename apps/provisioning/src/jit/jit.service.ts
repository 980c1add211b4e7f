import { Injectable } from '@nestjs/common';
import { AttributeMapping, KEYCLOAK_DEFAULT_MAPPING, mapIdentity } from '@bridgekeeper/provisioning-model';
import { DirectoryClient } from '../directory-client/directory.client';
import { AuthenticatedData, LoginOutcome, outcomeOfLookup } from '../logins/login-outcome';

/**
 * Just-in-Time: a login creates the user on first sight and updates profile, properties and
 * the IdP-managed group memberships every time, from what the IdP asserted.
 */
@Injectable()
export class JitService {
  constructor(private readonly directory: DirectoryClient) {}

  async provision(data: AuthenticatedData, mapping: AttributeMapping = KEYCLOAK_DEFAULT_MAPPING, updateOnLogin = true): Promise<LoginOutcome> {
    const mapped = mapIdentity(data.subject, data.attributes, mapping);
    if (!mapped.ok) return { kind: 'rejected', code: mapped.code, reason: mapped.reason };
    if (!updateOnLogin) {
      // Update-on-login off: a known user signs in as the directory holds them.
      const known = await this.directory.resolveUser({ source: data.idp, externalId: data.subject, username: mapped.identity.username });
      if (known.status !== 'not_found') return outcomeOfLookup(known, '');
    }
    const reply = await this.directory.provisionUser({
      source: data.idp,
      externalId: data.subject,
      username: mapped.identity.username,
      email: mapped.identity.email,
      displayName: mapped.identity.displayName,
      groups: mapped.identity.groups,
      properties: mapped.identity.properties,
      newUserGroups: mapped.identity.newUserGroups,
      createMissingGroups: mapping.groups.createMissing ?? true,
      matchOn: mapping.matchOn ?? ['username'],
      actor: `login:${data.traceId}`,
    });
    switch (reply.status) {
      case 'provisioned':
        return { kind: 'provisioned', user: reply.user, groups: reply.groups, created: reply.created, changed: reply.changed };
      case 'disabled':
        return { kind: 'rejected', code: 'user_disabled', reason: `the account ${reply.user.username} is disabled in the directory` };
      default:
        return { kind: 'rejected', code: reply.code === 'seat_limit' ? 'seat_limit' : 'invalid_identity', reason: reply.message };
    }
  }
}
