import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Flat groups, as Atlassian-style applications expect; nested IdP groups are flattened by name. */
@Entity({ name: 'groups' })
@Index('uq_groups_source_external_id', ['source', 'externalId'], { unique: true })
export class GroupEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 255 })
  name: string;

  @Index('uq_groups_name_lower', { unique: true })
  @Column({ name: 'name_lower', type: 'varchar', length: 255 })
  nameLower: string;

  /** The name's lookalike key (as the users' username_skeleton): no two groups have names that look alike. */
  @Index('uq_groups_name_skeleton', { unique: true })
  @Column({ name: 'name_skeleton', type: 'varchar', length: 64, nullable: true })
  nameSkeleton: string | null;

  /** The key of the name's skeleton as written (as the users' username_skeleton_shown). */
  @Index('uq_groups_name_skeleton_shown', { unique: true })
  @Column({ name: 'name_skeleton_shown', type: 'varchar', length: 64, nullable: true })
  nameSkeletonShown: string | null;

  @Column({ type: 'text', nullable: true })
  description: string | null;

  /** The IdP or connector that manages the group, or `local` (never touched by provisioning). */
  @Column({ type: 'varchar', length: 64 })
  source: string;

  /**
   * The IdP group this group is, for a User Sync connector's groups (Keycloak's group id): a group
   * renamed or moved at the IdP is renamed here in place. Null for others, and for a connector's
   * groups made before it was recorded (its next run links them by name).
   */
  @Column({ name: 'external_id', type: 'varchar', length: 255, nullable: true })
  externalId: string | null;

  @Column({ name: 'created_at' })
  createdAt: Date;
}
