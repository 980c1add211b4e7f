import { AuditEntryEntity } from './audit/audit-entry.entity';
import { GroupEntity } from './groups/group.entity';
import { MembershipEntity } from './groups/membership.entity';
import { InitialDirectory1764300000000 } from './migrations/1764300000000-initial-directory';
import { UserPropertyEntity } from './users/user-property.entity';
import { UserEntity } from './users/user.entity';

export const DIRECTORY_ENTITIES = [UserEntity, UserPropertyEntity, GroupEntity, MembershipEntity, AuditEntryEntity];
export const DIRECTORY_MIGRATIONS = [InitialDirectory1764300000000];
