import type { DirectoryUser, EventData, UserRejectedV1 } from '@bridgekeeper/contracts';

/** What a provisioning model decided about one login. */
export type LoginOutcome =
  | { kind: 'provisioned'; user: DirectoryUser; groups: string[]; created: boolean; changed: boolean }
  | { kind: 'rejected'; code: EventData<typeof UserRejectedV1>['code']; reason: string };

export type AuthenticatedData = EventData<typeof import('@bridgekeeper/contracts').UserAuthenticatedV1>;
