import { AuditEntryEntity } from '@bridgekeeper/data';
import { GroupEntity } from './groups/group.entity';
import { MembershipEntity } from './groups/membership.entity';
import { InitialDirectory1764300000000 } from './migrations/1764300000000-initial-directory';
import { AdminApi1764400000000 } from './migrations/1764400000000-admin-api';
import { UsersBySource1764600000000 } from './migrations/1764600000000-users-by-source';
import { OutboxPending1764700000000 } from './migrations/1764700000000-outbox-pending';
import { OutboxBatches1764800000000 } from './migrations/1764800000000-outbox-batches';
import { ProtectedUsers1764900000004 } from './migrations/1764900000004-protected-users';
import { NameSkeletons1765000000000 } from './migrations/1765000000000-name-skeletons';
import { CursorKey1765200000001 } from './migrations/1765200000001-cursor-key';
import { PropertyLists1765500000001 } from './migrations/1765500000001-property-lists';
import { GroupExternalIds1765500000002 } from './migrations/1765500000002-group-external-ids';
import { OutboxBatchEntity } from './outbox/outbox-batch.entity';
import { ApiTokenEntity } from './tokens/api-token.entity';
import { UserPropertyEntity } from './users/user-property.entity';
import { UserEntity } from './users/user.entity';

export const DIRECTORY_ENTITIES = [UserEntity, UserPropertyEntity, GroupEntity, MembershipEntity, AuditEntryEntity, ApiTokenEntity, OutboxBatchEntity];
export const DIRECTORY_MIGRATIONS = [
  InitialDirectory1764300000000,
  AdminApi1764400000000,
  UsersBySource1764600000000,
  OutboxPending1764700000000,
  OutboxBatches1764800000000,
  ProtectedUsers1764900000004,
  NameSkeletons1765000000000,
  CursorKey1765200000001,
  PropertyLists1765500000001,
  GroupExternalIds1765500000002,
];
