import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { AttributeMapping } from '@bridgekeeper/provisioning-model';

/** How logins through one IdP are provisioned: the model, the attribute mapping, JIT options. */
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

  @Column({ name: 'updated_at' })
  updatedAt: Date;
}
