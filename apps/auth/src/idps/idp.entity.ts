import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { IdpMetadata } from '@bridgekeeper/saml';

/** A SAML identity provider: how to reach it, what it signs with, and how to ask it. */
@Entity({ name: 'idps' })
export class IdpEntity {
  /** Used in URLs: /saml/<id>/acs. */
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id: string;

  @Column({ type: 'varchar', length: 255 })
  name: string;

  @Column({ type: 'boolean', default: true })
  enabled: boolean;

  /** Refreshed on a schedule when set; otherwise the metadata was pasted or entered by hand. */
  @Column({ name: 'metadata_url', type: 'varchar', length: 1000, nullable: true })
  metadataUrl: string | null;

  /** The last good metadata: entity id, endpoints, signing certificates (base64 DER). */
  @Column({ type: 'simple-json', nullable: true })
  metadata: IdpMetadataState | null;

  @Column({ name: 'metadata_fetched_at', type: Date, nullable: true })
  metadataFetchedAt: Date | null;

  /** Why the last refresh failed (the last good metadata stays in use). */
  @Column({ name: 'metadata_error', type: 'text', nullable: true })
  metadataError: string | null;

  @Column({ type: 'simple-json' })
  options: IdpOptions;

  @Column({ name: 'created_at' })
  createdAt: Date;

  @Column({ name: 'updated_at' })
  updatedAt: Date;
}

/** The last good metadata, as libs/saml parses it. */
export type IdpMetadataState = IdpMetadata;

export interface IdpOptions {
  binding: 'HTTP-Redirect' | 'HTTP-POST';
  /** Email domains routed to this IdP from the chooser (login_hint or a typed address). */
  emailDomains: string[];
  forceAuthn: boolean;
  isPassive?: boolean;
  nameIdFormat: string | null;
  /** Accept logins the IdP starts (unsolicited responses); off by default. */
  allowIdpInitiated?: boolean;
}
