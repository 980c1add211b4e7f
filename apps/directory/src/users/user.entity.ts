import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { v7 as timeOrderedUuid } from 'uuid';

/**
 * A new user's id: a UUIDv7, ordered by creation time, so users and their memberships (keyed
 * user first) created by a large sync append to their primary-key indexes instead of writing
 * all over them.
 */
export const newUserId = (): string => timeOrderedUuid();

@Entity({ name: 'users' })
@Index('uq_users_source_external', ['source', 'externalId'], { unique: true })
@Index('ix_users_source_id', ['source', 'id'])
export class UserEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 255 })
  username: string;

  /** Lower-cased username: usernames are unique case-insensitively. */
  @Index('uq_users_username_lower', { unique: true })
  @Column({ name: 'username_lower', type: 'varchar', length: 255 })
  usernameLower: string;

  /**
   * The username's lookalike key (`nameKey`, libs/names: the SHA-256 of its case-insensitive
   * TR 39 skeleton, the skeleton of its lower case): no two users have names that look alike. Null only for an account that
   * already looked like an earlier one when the column was added (the migration logged it).
   */
  @Index('uq_users_username_skeleton', { unique: true })
  @Column({ name: 'username_skeleton', type: 'varchar', length: 64, nullable: true })
  usernameSkeleton: string | null;

  /**
   * The key of the username's skeleton as written (`nameKeys().shown`: a capital I is an l, as it
   * looks). A name looks like another when any of its two keys is any of the other's. Null as above.
   */
  @Index('uq_users_username_skeleton_shown', { unique: true })
  @Column({ name: 'username_skeleton_shown', type: 'varchar', length: 64, nullable: true })
  usernameSkeletonShown: string | null;

  @Column({ type: 'varchar', length: 320, nullable: true })
  email: string | null;

  /** Lower-cased email: emails are unique case-insensitively too. */
  @Index('uq_users_email_lower', { unique: true })
  @Column({ name: 'email_lower', type: 'varchar', length: 320, nullable: true })
  emailLower: string | null;

  @Column({ name: 'display_name', type: 'varchar', length: 255, nullable: true })
  displayName: string | null;

  @Column({ type: 'boolean', default: true })
  active: boolean;

  /** Which IdP or sync connector manages the user, or `local`. */
  @Column({ type: 'varchar', length: 64 })
  source: string;

  /** The IdP's immutable subject / user id. */
  @Column({ name: 'external_id', type: 'varchar', length: 255, nullable: true })
  externalId: string | null;

  /**
   * No IdP or connector may ever claim, link or change this account (local administrators, the
   * break-glass account); only an admin does. Only `local` accounts carry it.
   */
  @Column({ type: 'boolean', default: false })
  protected: boolean;

  @Column({ name: 'last_login_at', type: Date, nullable: true })
  lastLoginAt: Date | null;

  @Column({ name: 'created_at' })
  createdAt: Date;

  @Column({ name: 'updated_at' })
  updatedAt: Date;
}
