import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Ids already honoured, until they expire: the same assertion (or logout message) never counts twice. */
@Entity({ name: 'saml_assertions' })
export class SamlAssertionEntity {
  @PrimaryColumn({ type: 'varchar', length: 128 })
  id: string;

  @Column({ type: 'varchar', length: 64 })
  idp: string;

  @Column({ name: 'expires_at' })
  expiresAt: Date;
}
