import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { AttributeMapping } from '@bridgekeeper/provisioning-model';

/** How logins through one IdP are provisioned: the model, the attribute mapping, JIT options, and what it may change beyond what it owns. */
@Entity({ name: 'idp_settings' })
export class IdpSettingsEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  idp: string;

  @Column({ type: 'varchar', length: 8 })
  model: 'jit' | 'manual' | 'sync';

  @Column({ type: 'simple-json' })
  mapping: AttributeMapping;

  /** JIT: update profile, properties and managed groups on every login (else only on the first). */
  @Column({ name: 'update_on_login', type: 'boolean', default: true })
  updateOnLogin: boolean;

  /** Local groups (names) this IdP's logins may put users in, beside its own groups; groups of other sources never. */
  @Column({ name: 'grant_local_groups', type: 'simple-json' })
  grantLocalGroups: string[];

  /** This IdP's logins may link a local account no IdP owns (by matchOn / username); a protected one never. */
  @Column({ name: 'claim_local_users', type: 'boolean', default: false })
  claimLocalUsers: boolean;

  @Column({ name: 'updated_at' })
  updatedAt: Date;
}
