import { AuditEntryEntity } from '@bridgekeeper/data';
import { ConnectorEntity } from './connectors/connector.entity';
import { ProcessedEventEntity } from './logins/processed-event.entity';
import { InitialProvisioning1764300000001 } from './migrations/1764300000001-initial-provisioning';
import { UserSync1764400000001 } from './migrations/1764400000001-user-sync';
import { IdpSettings1764500000002 } from './migrations/1764500000002-idp-settings';
import { SyncChanges1764600000001 } from './migrations/1764600000001-sync-changes';
import { IdpOwnershipGrants1764900000005 } from './migrations/1764900000005-idp-ownership-grants';
import { KnownIdps1765100000001 } from './migrations/1765100000001-known-idps';
import { CursorKey1765200000002 } from './migrations/1765200000002-cursor-key';
import { HeldPlans1765300000000 } from './migrations/1765300000000-held-plans';
import { HeldPlanGuards1765400000000 } from './migrations/1765400000000-held-plan-guards';
import { SyncTicks1765500000000 } from './migrations/1765500000000-sync-ticks';
import { IdpSettingsEntity } from './settings/idp-settings.entity';
import { KnownIdpEntity } from './settings/known-idp.entity';
import { SyncHeldPlanEntity, SyncLockEntity, SyncRunEntity, SyncTickEntity } from './sync/sync-run.entity';

export const PROVISIONING_ENTITIES = [
  ProcessedEventEntity,
  ConnectorEntity,
  SyncRunEntity,
  SyncLockEntity,
  SyncHeldPlanEntity,
  SyncTickEntity,
  AuditEntryEntity,
  IdpSettingsEntity,
  KnownIdpEntity,
];
export const PROVISIONING_MIGRATIONS = [
  InitialProvisioning1764300000001,
  UserSync1764400000001,
  IdpSettings1764500000002,
  SyncChanges1764600000001,
  IdpOwnershipGrants1764900000005,
  KnownIdps1765100000001,
  CursorKey1765200000002,
  HeldPlans1765300000000,
  HeldPlanGuards1765400000000,
  SyncTicks1765500000000,
];
