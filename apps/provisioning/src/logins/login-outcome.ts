import type { DirectoryUser, EventData, ProvisioningNotice, ResolveUserReply, UserAuthenticatedV1, UserRejectedV1 } from '@bridgekeeper/contracts';

/** What a provisioning model decided about one login. */
export type LoginOutcome =
  | { kind: 'provisioned'; user: DirectoryUser; groups: string[]; created: boolean; changed: boolean; notices?: ProvisioningNotice[] }
  | { kind: 'rejected'; code: EventData<typeof UserRejectedV1>['code']; reason: string };

export type AuthenticatedData = EventData<typeof UserAuthenticatedV1>;

/** The outcome of a directory lookup (Manual and User Sync): signed in, disabled, not this IdP's to use, or unknown. */
export function outcomeOfLookup(reply: ResolveUserReply, notFoundReason: string): LoginOutcome {
  switch (reply.status) {
    case 'found':
      return { kind: 'provisioned', user: reply.user, groups: reply.groups, created: false, changed: false };
    case 'disabled':
      return { kind: 'rejected', code: 'user_disabled', reason: `the account ${reply.user.username} is disabled in the directory` };
    case 'refused':
      return { kind: 'rejected', code: reply.code, reason: reply.reason };
    default:
      return { kind: 'rejected', code: 'not_in_directory', reason: notFoundReason };
  }
}
