import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

export type SyncMode = 'full' | 'changes';

export type SyncRunStatus = 'running' | 'applied' | 'held' | 'failed' | 'dry-run' | 'discarded' | 'approved' | 'superseded';

export const SYNC_RUN_STATUSES = [
  'running',
  'applied',
  'held',
  'failed',
  'dry-run',
  'discarded',
  'approved',
  'superseded',
] as const satisfies readonly SyncRunStatus[];

/** One User Sync run: its trigger, progress, plan, counts, outcome. */
@Entity({ name: 'sync_runs' })
@Index('ix_sync_runs_connector', ['connectorId', 'startedAt'])
export class SyncRunEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ name: 'connector_id', type: 'varchar', length: 64 })
  connectorId: string;

  @Column({ type: 'varchar', length: 16 })
  status: SyncRunStatus;

  /** `schedule`, `api`, `event`, `first-login`, `approval`. */
  @Column({ type: 'varchar', length: 16 })
  trigger: string;

  @Column({ name: 'requested_by', type: 'varchar', length: 128 })
  requestedBy: string;

  /**
   * `full` read the whole realm; `changes` read only the users Keycloak's events named since the
   * previous run (a changes request that had to read everything records `full`, and says why in
   * its progress).
   */
  @Column({ type: 'varchar', length: 8, default: 'full' })
  mode: SyncMode;

  /** Keycloak's time (ms) up to which this run accounted for every change: where the next changes run starts reading. */
  @Column({
    name: 'changes_until',
    type: 'bigint',
    nullable: true,
    transformer: { to: (v: number | null) => v, from: (v: string | number | null) => (v === null ? null : Number(v)) },
  })
  changesUntil: number | null;

  /** A scheduled run: the tick (ms since the epoch, UTC) of the schedule it was started for; null for any other trigger. */
  @Column({
    name: 'scheduled_for',
    type: 'bigint',
    nullable: true,
    transformer: { to: (v: number | null | undefined) => v ?? null, from: (v: string | number | null) => (v === null ? null : Number(v)) },
  })
  scheduledFor: number | null;

  @Column({ name: 'dry_run', type: 'boolean', default: false })
  dryRun: boolean;

  /** Phase and counts while running: `{ phase, users, groups, members, applied, total, percent }`. */
  @Column({ type: 'simple-json' })
  progress: any;

  @Column({ type: 'simple-json', nullable: true })
  counts: any;

  /** The plan (lists capped for storage) — what a dry run or a held run shows the admin. */
  @Column({ type: 'simple-json', nullable: true })
  plan: any;

  /**
   * A held run's plan, identified: the SHA-256 (hex) of the run's id and the whole plan as stored
   * (`sync_held_plans`; `heldPlanDigest`), so it names this run's plan and no other run's. An approval quotes it; null for a run held without a plan (Keycloak failed), which cannot be approved.
   */
  @Column({ name: 'plan_digest', type: 'varchar', length: 64, nullable: true })
  planDigest: string | null;

  @Column({ type: 'text', nullable: true })
  reason: string | null;

  @Column({ name: 'directory_writes', type: 'integer', default: 0 })
  directoryWrites: number;

  @Column({ name: 'started_at' })
  startedAt: Date;

  @Column({ name: 'finished_at', type: Date, nullable: true })
  finishedAt: Date | null;
}

/** One run per connector at a time, across instances: the primary key is the lock. */
@Entity({ name: 'sync_locks' })
export class SyncLockEntity {
  @PrimaryColumn({ name: 'connector_id', type: 'varchar', length: 64 })
  connectorId: string;

  @Column({ name: 'run_id', type: 'varchar', length: 36 })
  runId: string;

  @Column({ name: 'expires_at' })
  expiresAt: Date;
}

/**
 * One tick of a connector's schedule, claimed by the instance that starts its run: the primary key
 * makes the claim once across instances, whenever each instance's timer fires.
 */
@Entity({ name: 'sync_ticks' })
export class SyncTickEntity {
  @PrimaryColumn({ name: 'connector_id', type: 'varchar', length: 64 })
  connectorId: string;

  @PrimaryColumn({ type: 'varchar', length: 8 })
  mode: SyncMode;

  /** The tick's time as the schedule names it (ms since the epoch, UTC). */
  @PrimaryColumn({ name: 'scheduled_for', type: 'bigint', transformer: { to: (v: number) => v, from: (v: string | number) => Number(v) } })
  scheduledFor: number;

  @Column({ name: 'claimed_at' })
  claimedAt: Date;
}

/**
 * The whole plan of a held run (the run's `plan` shows its first 200 entries of each list), with
 * the directory state each change was planned from (`basis`, see plan-basis.ts) and Keycloak's
 * time of the read: what an approval applies, exactly, or refuses.
 */
@Entity({ name: 'sync_held_plans' })
export class SyncHeldPlanEntity {
  @PrimaryColumn({ name: 'run_id', type: 'varchar', length: 36 })
  runId: string;

  /** The plan's JSON, as digested (`SyncRunEntity.planDigest`). */
  @Column({ type: 'text' })
  plan: string;

  @Column({ type: 'simple-json' })
  basis: Record<string, string | null>;

  /** A digest of the IdP's effective provisioning settings the plan was made under (`settingsDigest`); null for a plan held before it was kept. */
  @Column({ name: 'settings_digest', type: 'varchar', length: 64, nullable: true })
  settingsDigest: string | null;

  /** Who held each name the plan gives users, when it was held (`NamesBasis`); null for a plan held before it was kept. */
  @Column({ type: 'simple-json', nullable: true })
  names: Record<string, string | null> | null;

  @Column({ name: 'as_of', type: 'bigint', transformer: { to: (v: number) => v, from: (v: string | number) => Number(v) } })
  asOf: number;

  @Column({ name: 'created_at' })
  createdAt: Date;
}
