import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Private keys (encrypted at rest) and their public halves: SAML SP keys, session signing keys. */
@Entity({ name: 'keys' })
export class KeyEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id: string;

  /** `saml-sp:<idp>` or `session`. */
  @Column({ type: 'varchar', length: 96 })
  purpose: string;

  @Column({ name: 'private_key_enc', type: 'text' })
  privateKeyEnc: string;

  /** PEM certificate (SAML) or public JWK as JSON (session). */
  @Column({ name: 'public_material', type: 'text' })
  publicMaterial: string;

  @Column({ type: 'boolean', default: true })
  active: boolean;

  @Column({ name: 'not_after', type: Date, nullable: true })
  notAfter: Date | null;

  @Column({ name: 'created_at' })
  createdAt: Date;
}
