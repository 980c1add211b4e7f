import type { DirectoryUser, EventData, UserRejectedV1 } from '@bridgekeeper/contracts';

/** What a provisioning model decided about one login. */
export type LoginOutcome =
  | { kind: 'provisioned'; user: DirectoryUser; groups: string[]; created: boolean; changed: boolean }
  | { kind: 'rejected'; code: EventData<typeof UserRejectedV1>['code']; reason: string };

export type AuthenticatedData = EventData<typeof import('@bridgekeeper/contracts').UserAuthenticatedV1>;

type ResolveReply =
  | { status: 'found'; user: DirectoryUser; groups: string[] }
  | { status: 'disabled'; user: DirectoryUser }
  | { status: 'not_found' };

/** The outcome of a directory lookup (Manual and User Sync): signed in, disabled, or unknown. */
export function outcomeOfLookup(reply: ResolveReply, notFoundReason: string): LoginOutcome {
  switch (reply.status) {
    case 'found':
      return { kind: 'provisioned', user: reply.user, groups: reply.groups, created: false, changed: false };
    case 'disabled':
      return { kind: 'rejected', code: 'user_disabled', reason: `the account ${reply.user.username} is disabled in the directory` };
    default:
      return { kind: 'rejected', code: 'not_in_directory', reason: notFoundReason };
  }
}
