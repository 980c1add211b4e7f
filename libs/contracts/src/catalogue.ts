import type { EventContract } from './envelope';
import { DirectoryEventsV1 } from './events/directory.v1';
import { IdpCreatedV1, IdpDeletedV1, IdpUpdatedV1 } from './events/idp.v1';
import { SyncCompletedV1, SyncConnectorChangedV1, SyncRequestedV1 } from './events/sync.v1';
import { UserAuthenticatedV1 } from './events/user-authenticated.v1';
import { UserProvisionedV1, UserRejectedV1 } from './events/user-provisioned.v1';
import { AuthRpc } from './rpc/auth.rpc';
import { DirectoryRpc } from './rpc/directory.rpc';

/** Every event Bridgekeeper publishes. docs/reference/events.md is generated from this list (`pnpm docs:reference`). */
export const EVENT_CATALOGUE: readonly EventContract[] = [
  UserAuthenticatedV1,
  UserProvisionedV1,
  UserRejectedV1,
  SyncRequestedV1,
  SyncCompletedV1,
  SyncConnectorChangedV1,
  ...Object.values(DirectoryEventsV1),
  IdpCreatedV1,
  IdpUpdatedV1,
  IdpDeletedV1,
];

export const RPC_CATALOGUE = [...Object.values(DirectoryRpc), ...Object.values(AuthRpc)];
