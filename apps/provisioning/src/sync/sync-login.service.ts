import { Inject, Injectable, Logger } from '@nestjs/common';
import { AttributeMapping, computeSyncPlan, KEYCLOAK_DEFAULT_MAPPING, mapIdentity, NO_GRANTS, OwnershipGrants } from '@bridgekeeper/provisioning-model';
import { PROVISIONING_CONFIG, ProvisioningConfig } from '../config/provisioning.config';
import { ConnectorsService } from '../connectors/connectors.service';
import { DirectoryClient } from '../directory-client/directory.client';
import { AuthenticatedData, LoginOutcome, outcomeOfLookup } from '../logins/login-outcome';

/**
 * The User Sync model at login: the directory (kept by sync runs) decides. A user created in
 * Keycloak after the last run is synced alone, right now (bounded), so they can log in at once.
 */
@Injectable()
export class SyncLoginService {
  private readonly logger = new Logger(SyncLoginService.name);

  constructor(
    private readonly connectors: ConnectorsService,
    private readonly directory: DirectoryClient,
    @Inject(PROVISIONING_CONFIG) private readonly config: ProvisioningConfig,
  ) {}

  async resolve(
    data: AuthenticatedData,
    mapping: AttributeMapping = KEYCLOAK_DEFAULT_MAPPING,
    grants: OwnershipGrants = NO_GRANTS,
    loginAt?: string,
  ): Promise<LoginOutcome> {
    const connector = await this.connectors.forIdp(data.idp);
    if (!connector) return { kind: 'rejected', code: 'sync_unavailable', reason: `no enabled User Sync connector serves ${data.idp}` };
    const mapped = mapIdentity(data.subject, data.attributes, mapping, data);
    if (!mapped.ok) return { kind: 'rejected', code: mapped.code, reason: mapped.reason };
    // No username in the login: the user is found by the subject alone (the lookup by name finds nothing).
    const username = mapped.identity.username ?? data.subject;
    // OIDC's sub is Keycloak's user id, which the connector keys its users on; SAML's NameID is the username (issue 26).
    const lookup = () =>
      this.directory.resolveUser({
        source: connector.id,
        externalId: data.subject,
        username,
        loginAt,
        claimLocalUsers: grants.claimLocalUsers,
        subjectKeysUsers: data.protocol === 'oidc',
      });

    let reply = await lookup();
    // A new user, or (OIDC) one whose username another account holds: the single-user sync
    // decides it as a run would (a departed user's name is released; anything else is a conflict
    // the trace shows). The account of another Keycloak id is never theirs.
    if (reply.status === 'not_found' || (reply.status === 'refused' && data.protocol === 'oidc')) {
      const synced = await this.syncOne(connector, username, data.traceId, grants);
      if (synced !== true)
        return reply.status === 'refused'
          ? { kind: 'rejected', code: reply.code, reason: `${reply.reason}; ${synced}` }
          : { kind: 'rejected', code: 'not_in_directory', reason: synced };
      reply = await lookup();
    }
    return outcomeOfLookup(reply, `${username} is not in the directory after a sync`);
  }

  /** Single-user sync; true, or why the user cannot be synced. */
  private async syncOne(
    connector: Parameters<ConnectorsService['client']>[0],
    username: string,
    traceId: string,
    grants: OwnershipGrants,
  ): Promise<true | string> {
    const deadline = new Promise<string>((resolve) =>
      setTimeout(
        () => resolve(`syncing ${username} from Keycloak took longer than ${this.config.sync.firstLoginTimeoutMs} ms`),
        this.config.sync.firstLoginTimeoutMs,
      ).unref(),
    );
    const work = (async (): Promise<true | string> => {
      const kc = this.connectors.client(connector);
      const found = await kc.userByUsername(username);
      if (!found) return `${username} is not a user of the Keycloak realm ${connector.realm}`;
      const one = await kc.user(found.id, connector.options.attributes);
      if (!one) return `${username} vanished from Keycloak`;
      const snapshot = { users: [one.user], groups: one.groups, members: new Map(one.groups.map((g) => [g.id, [one.user.id]])) };
      const plan = computeSyncPlan(snapshot, [], new Set(), { ...connector.options, vanished: 'keep' });
      if (!one.user.enabled) return `${username} is disabled in Keycloak`;
      if (plan.create.length === 0) return `${username} is not a member of the groups this connector syncs`;
      const reply = await this.directory.syncApply({
        source: connector.id,
        actor: `sync:first-login:${traceId}`,
        grantLocalGroups: grants.grantLocalGroups,
        claimLocalUsers: grants.claimLocalUsers,
        groupsToCreate: plan.groupsToCreate,
        upsert: plan.create,
        addMemberships: plan.addMemberships,
        groupIdentities: plan.groupIdentities,
      });
      if (reply.status !== 'applied') return `the directory refused ${username}: ${reply.message}`;
      // A user is Keycloak's id, never the name: another account holding the name is a conflict for an admin.
      const conflict = reply.conflicts?.find((c) => c.externalId === one.user.id);
      if (conflict) return `${username} is a sync conflict, not created: ${conflict.reason}`;
      this.logger.log(`synced ${username} from ${connector.id} at first login`);
      return true;
    })();
    return Promise.race([work, deadline]);
  }
}
