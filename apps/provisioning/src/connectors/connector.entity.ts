import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A Keycloak User Sync connector for one IdP. The client secret is sealed with the master key. */
@Entity({ name: 'connectors' })
export class ConnectorEntity {
  /** Also the directory `source` of the users and groups it manages. */
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id: string;

  /** The IdP (auth's id) whose logins this connector serves under the User Sync model. */
  @Column({ type: 'varchar', length: 64 })
  idp: string;

  @Column({ name: 'base_url', type: 'varchar', length: 500 })
  baseUrl: string;

  @Column({ type: 'varchar', length: 255 })
  realm: string;

  @Column({ name: 'client_id', type: 'varchar', length: 255 })
  clientId: string;

  @Column({ name: 'client_secret_enc', type: 'text' })
  clientSecretEnc: string;

  /** required groups, subgroups, naming, attributes, vanished policy, strip groups, removal share. */
  @Column({ type: 'simple-json' })
  options: ConnectorOptions;

  /** Cron expression (UTC); empty means on demand only. */
  @Column({ type: 'varchar', length: 100 })
  schedule: string;

  /** Cron expression (UTC) for changes runs (only what Keycloak's admin events name); empty for none. */
  @Column({ name: 'changes_schedule', type: 'varchar', length: 100, default: '' })
  changesSchedule: string;

  @Column({ type: 'boolean', default: true })
  enabled: boolean;

  @Column({ name: 'created_at' })
  createdAt: Date;

  @Column({ name: 'updated_at' })
  updatedAt: Date;
}

export interface ConnectorOptions {
  requiredGroups: string[];
  includeSubgroups: boolean;
  naming: 'path' | 'leaf';
  attributes: string[];
  vanished: 'disable' | 'delete' | 'keep';
  stripGroupsOfVanished: boolean;
  maxRemovalShare: number;
}
