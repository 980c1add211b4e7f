import { Injectable } from '@nestjs/common';
import { AttributeMapping, KEYCLOAK_DEFAULT_MAPPING, mapIdentity, NO_GRANTS, noUsernameReason, OwnershipGrants } from '@bridgekeeper/provisioning-model';
import { DirectoryClient } from '../directory-client/directory.client';
import { AuthenticatedData, LoginOutcome, outcomeOfLookup } from '../logins/login-outcome';

/**
 * Manual: a login creates and changes nothing. Only users an admin put in the directory for this
 * IdP (`source` = the IdP id) may sign in, with the groups the directory holds; a local account
 * only when the admin allowed the IdP to claim local accounts; a protected one never.
 */
@Injectable()
export class ManualService {
  constructor(private readonly directory: DirectoryClient) {}

  async resolve(
    data: AuthenticatedData,
    mapping: AttributeMapping = KEYCLOAK_DEFAULT_MAPPING,
    grants: OwnershipGrants = NO_GRANTS,
    loginAt?: string,
  ): Promise<LoginOutcome> {
    const mapped = mapIdentity(data.subject, data.attributes, mapping, data);
    if (!mapped.ok) return { kind: 'rejected', code: mapped.code, reason: mapped.reason };
    // No username in the login: the user is found by the subject alone.
    const username = mapped.identity.username ?? data.subject;
    const reply = await this.directory.resolveUser({ source: data.idp, externalId: data.subject, username, loginAt, claimLocalUsers: grants.claimLocalUsers });
    return outcomeOfLookup(
      reply,
      mapped.identity.username
        ? `${username} has no account here; an administrator must create it first`
        : `${noUsernameReason(mapping)}; and no account here has its subject`,
    );
  }
}
