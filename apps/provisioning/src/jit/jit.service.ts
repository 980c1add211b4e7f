import { Injectable } from '@nestjs/common';
import { ProvisionUserReply, ProvisionUserRequest } from '@bridgekeeper/contracts';
import { AttributeMapping, KEYCLOAK_DEFAULT_MAPPING, mapIdentity, MappedIdentity } from '@bridgekeeper/provisioning-model';
import { DirectoryClient } from '../directory-client/directory.client';
import { AuthenticatedData, LoginOutcome, outcomeOfLookup } from '../logins/login-outcome';

/**
 * Just-in-Time: a login creates the user on first sight and updates profile, properties and
 * the IdP-managed group memberships every time, from what the IdP asserted.
 */
@Injectable()
export class JitService {
  constructor(private readonly directory: DirectoryClient) {}

  async provision(data: AuthenticatedData, mapping: AttributeMapping = KEYCLOAK_DEFAULT_MAPPING, updateOnLogin = true, loginAt?: string): Promise<LoginOutcome> {
    const mapped = mapIdentity(data.subject, data.attributes, mapping);
    if (!mapped.ok) return { kind: 'rejected', code: mapped.code, reason: mapped.reason };
    if (!updateOnLogin) {
      // Update-on-login off: a known user signs in as the directory holds them.
      const known = await this.directory.resolveUser({ source: data.idp, externalId: data.subject, username: mapped.identity.username, loginAt });
      if (known.status !== 'not_found') return outcomeOfLookup(known, '');
    }
    return outcomeOfReply(await this.directory.provisionUser(request(data, mapped.identity, mapping, loginAt)));
  }

  /**
   * The repeat login that changes nothing (most logins), answered by the directory with a read
   * and the last-login note — nothing else is written, so this may run before the caller knows
   * whether the login is a redelivery. Undefined when the login needs `provision` (a new user,
   * any difference, a disabled user, a mapping that refuses it) or update-on-login is off.
   */
  async confirmUnchanged(data: AuthenticatedData, mapping: AttributeMapping = KEYCLOAK_DEFAULT_MAPPING, updateOnLogin = true, loginAt?: string): Promise<LoginOutcome | undefined> {
    if (!updateOnLogin) return undefined;
    const mapped = mapIdentity(data.subject, data.attributes, mapping);
    if (!mapped.ok) return undefined;
    const reply = await this.directory.provisionUser({ ...request(data, mapped.identity, mapping, loginAt), ifUnchanged: true });
    return reply.status === 'changes_needed' ? undefined : outcomeOfReply(reply);
  }
}

const request = (data: AuthenticatedData, identity: MappedIdentity, mapping: AttributeMapping, loginAt: string | undefined): ProvisionUserRequest => ({
  source: data.idp,
  externalId: data.subject,
  username: identity.username,
  email: identity.email,
  displayName: identity.displayName,
  groups: identity.groups,
  properties: identity.properties,
  newUserGroups: identity.newUserGroups,
  createMissingGroups: mapping.groups.createMissing ?? true,
  matchOn: mapping.matchOn ?? ['username'],
  actor: `login:${data.traceId}`,
  loginAt,
});

function outcomeOfReply(reply: ProvisionUserReply): LoginOutcome {
  switch (reply.status) {
    case 'provisioned':
      return { kind: 'provisioned', user: reply.user, groups: reply.groups, created: reply.created, changed: reply.changed };
    case 'disabled':
      return { kind: 'rejected', code: 'user_disabled', reason: `the account ${reply.user.username} is disabled in the directory` };
    case 'error':
      return { kind: 'rejected', code: reply.code === 'seat_limit' ? 'seat_limit' : 'invalid_identity', reason: reply.message };
    case 'changes_needed':
      throw new Error('the directory answered changes_needed to a provisioning command that did not ask ifUnchanged');
  }
}
