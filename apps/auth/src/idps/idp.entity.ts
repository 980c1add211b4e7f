import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { OidcDiscovery } from '@bridgekeeper/oidc';
import type { IdpMetadata } from '@bridgekeeper/saml';

/** An identity provider (SAML 2.0 or OpenID Connect): how to reach it, what it signs with, and how to ask it. */
@Entity({ name: 'idps' })
export class IdpEntity {
  /** Used in URLs: /saml/<id>/acs. */
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id: string;

  @Column({ type: 'varchar', length: 255 })
  name: string;

  @Column({ type: 'boolean', default: true })
  enabled: boolean;

  @Column({ type: 'varchar', length: 8, default: 'saml' })
  protocol: 'saml' | 'oidc';

  /** OIDC: issuer, client, scopes and the last good discovery document. */
  @Column({ type: 'simple-json', nullable: true })
  oidc: OidcIdpSettings | null;

  /** OIDC: the client secret, sealed with the master key; never returned. */
  @Column({ name: 'client_secret_enc', type: 'text', nullable: true })
  clientSecretEnc: string | null;

  /** Refreshed on a schedule when set (OIDC: the discovery URL); otherwise SAML metadata was pasted or entered by hand. */
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
  /** Key users on this attribute's one value instead of the NameID (required for transient NameIDs). */
  subjectAttribute?: string | null;
  /** Accept logins the IdP starts (unsolicited responses); off by default. */
  allowIdpInitiated?: boolean;
  /** Accept AES-CBC encrypted assertions (weak: padding oracle, downgrade from GCM); off by default, AES-GCM only. */
  allowCbcEncryption?: boolean;
}

export interface OidcIdpSettings {
  issuer: string;
  clientId: string;
  scopes: string[];
  /** The claim that carries groups; provisioning reads it as `groups`. */
  groupsClaim: string;
  /** The one algorithm ID tokens may be signed with. */
  idTokenAlgorithm: string;
  /** Merge the userinfo endpoint's claims (same `sub`). */
  userinfo: boolean;
  /** The last good discovery document. */
  discovery: OidcDiscovery | null;
}
