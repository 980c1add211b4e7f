import { ProcessedEventEntity } from './logins/processed-event.entity';
import { InitialProvisioning1764300000001 } from './migrations/1764300000001-initial-provisioning';

export const PROVISIONING_ENTITIES = [ProcessedEventEntity];
export const PROVISIONING_MIGRATIONS = [InitialProvisioning1764300000001];
