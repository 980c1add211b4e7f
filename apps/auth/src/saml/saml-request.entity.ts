import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Outstanding AuthnRequest ids: a response must answer one of them, once. Shared by all instances. */
@Entity({ name: 'saml_requests' })
export class SamlRequestEntity {
  @PrimaryColumn({ type: 'varchar', length: 128 })
  id: string;

  /** node-saml stores the request's IssueInstant here. */
  @Column({ type: 'varchar', length: 64 })
  value: string;

  @Column({ name: 'expires_at' })
  expiresAt: Date;
}
