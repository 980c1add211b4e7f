import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * What a login started with (where to return, its trace, what the answer must match), keyed by
 * the opaque RelayState (SAML) or `state` (OIDC); used once.
 */
@Entity({ name: 'login_states' })
export class LoginStateEntity {
  @PrimaryColumn({ name: 'relay_state', type: 'varchar', length: 64 })
  relayState: string;

  @Column({ type: 'varchar', length: 64 })
  idp: string;

  @Column({ name: 'return_to', type: 'text' })
  returnTo: string;

  @Column({ name: 'trace_id', type: 'varchar', length: 36 })
  traceId: string;

  /** SAML: the AuthnRequest id the response must answer (InResponseTo). */
  @Column({ name: 'request_id', type: 'varchar', length: 128, nullable: true })
  requestId: string | null;

  /** OIDC: the PKCE code verifier sent with the code exchange. */
  @Column({ name: 'code_verifier', type: 'varchar', length: 128, nullable: true })
  codeVerifier: string | null;

  /** OIDC: the nonce the ID token must carry. */
  @Column({ type: 'varchar', length: 128, nullable: true })
  nonce: string | null;

  /** The SHA-256 of the binding cookie of the browser that started the login (login/browser-binding.ts). */
  @Column({ name: 'browser_hash', type: 'varchar', length: 64, nullable: true })
  browserHash: string | null;

  @Column({ name: 'expires_at' })
  expiresAt: Date;
}
