import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A signed-in session. The cookie carries a signed token naming it; the row lets a logout (ours,
 * or the IdP's) end it everywhere at once, across auth instances.
 */
@Entity({ name: 'sessions' })
@Index('ix_sessions_subject', ['idp', 'nameId'])
@Index('ix_sessions_user', ['userId'])
export class SessionEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ name: 'user_id', type: 'varchar', length: 36 })
  userId: string;

  @Column({ type: 'varchar', length: 64 })
  idp: string;

  /** The IdP's subject (SAML NameID, OIDC `sub`) and its session (SAML SessionIndex, OIDC `sid`), for single logout. */
  @Column({ name: 'name_id', type: 'varchar', length: 255 })
  nameId: string;

  @Column({ name: 'name_id_format', type: 'varchar', length: 255, nullable: true })
  nameIdFormat: string | null;

  @Column({ name: 'session_index', type: 'varchar', length: 255, nullable: true })
  sessionIndex: string | null;

  /** OIDC: the ID token, sent back as `id_token_hint` on logout. */
  @Column({ name: 'id_token', type: 'text', nullable: true })
  idToken: string | null;

  /** Who signed in, as the directory answered the login (null on sessions from before these columns: their token carries it). */
  @Column({ type: 'varchar', length: 255, nullable: true })
  username: string | null;

  @Column({ type: 'varchar', length: 320, nullable: true })
  email: string | null;

  @Column({ name: 'display_name', type: 'varchar', length: 255, nullable: true })
  displayName: string | null;

  @Column({ type: 'simple-json', nullable: true })
  groups: string[] | null;

  @Column({ name: 'created_at' })
  createdAt: Date;

  @Index('ix_sessions_expires_at')
  @Column({ name: 'expires_at' })
  expiresAt: Date;

  @Column({ name: 'ended_at', type: Date, nullable: true })
  endedAt: Date | null;
}

/**
 * Whether the directory last said this user may sign in (its user.disabled, user.deleted and
 * user.enabled events; the newest wins). A revoked user's sessions are refused even when written
 * after the event, by a login that was in flight as they were disabled.
 */
@Entity({ name: 'user_access' })
export class UserAccessEntity {
  @PrimaryColumn({ name: 'user_id', type: 'varchar', length: 36 })
  userId: string;

  @Column({ type: 'boolean' })
  revoked: boolean;

  /** The time of the directory event that set it. */
  @Column({ name: 'changed_at' })
  changedAt: Date;
}
