import { Injectable } from '@nestjs/common';
import { ProvisionUserReply, ProvisionUserRequest } from '@bridgekeeper/contracts';
import { absentNotices, AttributeMapping, loginGrants, mapIdentity, MappedIdentity, noUsernameReason } from '@bridgekeeper/provisioning-model';
import { DirectoryClient } from '../directory-client/directory.client';
import { AuthenticatedData, LoginOutcome, outcomeOfLookup } from '../logins/login-outcome';
import { EffectiveSettings } from '../settings/idp-settings.service';

/** What a JIT login is provisioned with: the IdP's mapping, options and grants. */
export type JitSettings = Pick<EffectiveSettings, 'mapping' | 'updateOnLogin' | 'grantLocalGroups' | 'claimLocalUsers'>;

/**
 * Just-in-Time: a login creates the user on first sight and updates profile, properties and
 * the IdP-managed group memberships every time, from what the IdP asserted. It changes only what
 * its IdP owns, and what the admin granted it (the directory enforces it and says what it refused).
 */
@Injectable()
export class JitService {
  constructor(private readonly directory: DirectoryClient) {}

  async provision(data: AuthenticatedData, settings: JitSettings, loginAt?: string): Promise<LoginOutcome> {
    const mapped = mapIdentity(data.subject, data.attributes, settings.mapping, data);
    if (!mapped.ok) return { kind: 'rejected', code: mapped.code, reason: mapped.reason };
    if (!settings.updateOnLogin) {
      // Update-on-login off: a known user signs in as the directory holds them.
      const known = await this.directory.resolveUser({
        source: data.idp,
        externalId: data.subject,
        username: mapped.identity.username ?? data.subject,
        loginAt,
        claimLocalUsers: settings.claimLocalUsers,
      });
      if (known.status !== 'not_found') return outcomeOfLookup(known, '');
    }
    const reply = await this.directory.provisionUser(provisionRequest(data.idp, data.subject, mapped.identity, settings, `login:${data.traceId}`, loginAt));
    return outcomeOfReply(reply, mapped.identity, settings.mapping, data);
  }
}

/** The directory's provisioning command for a login (also the simulator's dry run, so both show the same). */
export const provisionRequest = (
  idp: string,
  subject: string,
  identity: MappedIdentity,
  settings: JitSettings,
  actor: string,
  loginAt?: string,
): ProvisionUserRequest => ({
  source: idp,
  externalId: subject,
  ...(identity.username !== null ? { username: identity.username } : {}),
  absent: identity.absent,
  email: identity.email,
  displayName: identity.displayName,
  groups: identity.groups,
  properties: identity.properties,
  newUserGroups: identity.newUserGroups,
  createMissingGroups: settings.mapping.groups.createMissing ?? true,
  matchOn: settings.mapping.matchOn ?? ['username'],
  ...loginGrants(settings.mapping, settings),
  actor,
  loginAt,
});

function outcomeOfReply(
  reply: ProvisionUserReply,
  identity: MappedIdentity,
  mapping: AttributeMapping,
  login: { protocol?: 'saml' | 'oidc'; attributes: Record<string, string[]> },
): LoginOutcome {
  switch (reply.status) {
    case 'provisioned': {
      // What the login left out (a known user kept it) is said in the trace beside what was refused.
      const notices = [...(reply.notices ?? []), ...absentNotices(identity, mapping)].slice(0, 100);
      return {
        kind: 'provisioned',
        user: reply.user,
        groups: reply.groups,
        created: reply.created,
        changed: reply.changed,
        ...(notices.length ? { notices } : {}),
      };
    }
    case 'disabled':
      return { kind: 'rejected', code: 'user_disabled', reason: `the account ${reply.user.username} is disabled in the directory` };
    case 'error':
      if (reply.code === 'no_username') return { kind: 'rejected', code: 'no_username', reason: noUsernameReason(mapping, login) };
      return {
        kind: 'rejected',
        code: reply.code === 'seat_limit' || reply.code === 'account_not_owned' || reply.code === 'name_refused' ? reply.code : 'invalid_identity',
        reason: reply.message,
      };
  }
}
