import { ConflictException, Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { Counter, Registry } from 'prom-client';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, LessThan } from 'typeorm';
import { SyncAppliedCounts, SyncCompletedV1 } from '@bridgekeeper/contracts';
import { EventBus } from '@bridgekeeper/messaging';
import { runInTransaction, writeAudit } from '@bridgekeeper/data';
import { METRICS_REGISTRY } from '@bridgekeeper/platform';
import {
  assessSyncPlan,
  changedSinceBasis,
  DirectoryUserState,
  heldPlanDigest,
  IdpSnapshot,
  namesBasis,
  NamesBasis,
  namesChangedSince,
  namesGiven,
  OwnershipGrants,
  PlanBasis,
  planCounts,
  settingsDigest,
  SyncPlan,
  SyncPlanner,
} from '@bridgekeeper/provisioning-model';
import { ConnectorEntity } from '../connectors/connector.entity';
import { ConnectorsService } from '../connectors/connectors.service';
import { DirectoryClient } from '../directory-client/directory.client';
import { EffectiveSettings, IdpSettingsService } from '../settings/idp-settings.service';
import { readDirectoryGroups, readDirectoryUsers } from './directory-state.reader';
import { SyncHeldPlanEntity, SyncLockEntity, SyncMode, SyncRunEntity, SyncTickEntity } from './sync-run.entity';

export interface SyncRequest {
  dryRun: boolean;
  /** `changes`: only the users Keycloak's events name since the last applied run (default `full`). */
  mode?: SyncMode;
  trigger: 'schedule' | 'api' | 'event' | 'first-login';
  requestedBy: string;
  /** A scheduled run: the tick it is for (ms, as the schedule names it); claimed once across instances. */
  scheduledFor?: number;
}

/** 409: the connector is disabled; nothing runs for it (scheduled, on demand, by event, approvals). */
export class ConnectorDisabledException extends ConflictException {}

/** 409: another instance started this tick of the schedule. */
export class TickTakenException extends ConflictException {}

const LOCK_MS = 2 * 3600_000;
/** Items per batch; upserts also by size (NATS takes messages of up to 1 MB, and users may carry large attribute values). */
const BATCH = { upsert: 500, upsertBytes: 512 * 1024, ids: 2000, memberships: 5000, membershipBytes: 256 * 1024, groups: 2000 };
/** Usernames, and emails, a names-held request asks about (see namesHeldNow). */
const NAMES_PER_REQUEST = 500;
/** Batches of one phase in flight at once. */
const APPLY_IN_FLIGHT = 2;
/**
 * A changes run reads events again from this long before where the last run stopped, for events
 * Keycloak committed late; past this many named users a full run reads them faster.
 */
const CHANGES = { overlapMs: 5_000, maxUsers: 5_000 };

/** What a run read from Keycloak. */
interface KeycloakRead {
  mode: SyncMode;
  /** Keycloak's time before anything was read: the next changes run continues from here. */
  asOf: number;
  snapshot: IdpSnapshot;
  /** A changes run: the users the events named (the snapshot holds those Keycloak still has). */
  named?: string[];
  /** A changes run asked for, a full run done: why. */
  fullBecause?: string;
}

/**
 * User Sync runs: read Keycloak (paged), read what the directory holds for the connector (paged),
 * compute the plan (pure), hold it when unsafe, otherwise apply it in bounded batches — each one
 * transaction in the directory, so an interrupted run leaves it consistent and the next finishes.
 * A changes run reads only the users Keycloak's events name since the last applied run, and the
 * directory's state of just those, then plans and applies the same way. One run per connector at
 * a time, across instances. A held run keeps its whole plan; an approval applies exactly that plan,
 * once, and only while the directory is still in the state the plan was computed from.
 */
@Injectable()
export class SyncService {
  private readonly logger = new Logger(SyncService.name);
  private readonly running = new Map<string, Promise<SyncRunEntity>>();
  private readonly conflictsTotal: Counter<'connector'>;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly connectors: ConnectorsService,
    private readonly directory: DirectoryClient,
    private readonly bus: EventBus,
    private readonly settings: IdpSettingsService,
    @Inject(METRICS_REGISTRY) registry: Registry,
  ) {
    this.conflictsTotal = new Counter({
      name: 'bridgekeeper_sync_user_conflicts_total',
      help: "Users a sync run left out because their username or email is held by another account (an active user of another IdP id, another source's, a protected one)",
      labelNames: ['connector'],
      registers: [registry],
    });
  }

  /**
   * Takes the connector's lock, records the run, and runs it in the background. 409 when one is
   * running, when the connector is disabled, or (a scheduled run) when another instance started
   * this tick already; 404 when there is no such connector. The connector is read again under the
   * lock and that copy is the one run: a change, disable or delete committed while the lock was
   * being taken is seen.
   */
  async start(connectorId: string, req: SyncRequest): Promise<{ run: SyncRunEntity; done: Promise<SyncRunEntity> }> {
    await this.runnable(connectorId);
    const mode = req.mode ?? 'full';
    if (req.scheduledFor !== undefined && !(await this.claimTick(connectorId, mode, req.scheduledFor))) {
      throw new TickTakenException(
        `the ${mode} run of ${connectorId} scheduled for ${new Date(req.scheduledFor).toISOString()} was started already (by another instance)`,
      );
    }
    const run = this.newRun(connectorId, {
      mode,
      trigger: req.trigger,
      requestedBy: req.requestedBy,
      dryRun: req.dryRun,
      scheduledFor: req.scheduledFor ?? null,
    });
    await this.lock(connectorId, run.id);
    let connector: ConnectorEntity;
    try {
      connector = await this.runnable(connectorId); // again, under the lock
      await this.db.getRepository(SyncRunEntity).insert(run);
    } catch (err) {
      await this.unlock(connectorId, run.id);
      throw err;
    }
    return { run, done: this.background(run, () => this.execute(run, connector, req)) };
  }

  /** The connector, if a run may start: 404 when there is none, 409 when it is disabled. */
  private async runnable(connectorId: string): Promise<ConnectorEntity> {
    const connector = await this.connectors.get(connectorId);
    if (!connector.enabled) throw new ConnectorDisabledException(`connector ${connectorId} is disabled: enable it (PATCH {"enabled": true}) to run User Sync`);
    return connector;
  }

  /** One instance claims a tick of a connector's schedule (the row's primary key); false when another did. */
  private async claimTick(connectorId: string, mode: SyncMode, scheduledFor: number): Promise<boolean> {
    const ticks = this.db.getRepository(SyncTickEntity);
    try {
      await ticks.insert({ connectorId, mode, scheduledFor, claimedAt: new Date() });
      return true;
    } catch (err) {
      if (await ticks.existsBy({ connectorId, mode, scheduledFor })) return false;
      throw err;
    }
  }

  /** Claimed ticks older than this are forgotten (a timer never fires a day late). */
  async forgetTicks(olderThanMs = 24 * 3600_000): Promise<void> {
    await this.db.getRepository(SyncTickEntity).delete({ claimedAt: LessThan(new Date(Date.now() - olderThanMs)) });
  }

  private newRun(
    connectorId: string,
    what: Pick<SyncRunEntity, 'mode' | 'trigger' | 'requestedBy' | 'dryRun'> & Partial<Pick<SyncRunEntity, 'scheduledFor'>>,
  ): SyncRunEntity {
    return this.db.getRepository(SyncRunEntity).create({
      id: crypto.randomUUID(),
      connectorId,
      status: 'running',
      scheduledFor: null,
      ...what,
      changesUntil: null,
      progress: { phase: 'starting', percent: 0 },
      counts: null,
      plan: null,
      planDigest: null,
      reason: null,
      directoryWrites: 0,
      startedAt: new Date(),
      finishedAt: null,
    });
  }

  /** A run whose lock is taken and row inserted, run in the background; the lock goes when it ends. */
  private background(run: SyncRunEntity, work: () => Promise<SyncRunEntity>): Promise<SyncRunEntity> {
    const done = work().finally(() => {
      this.running.delete(run.id);
      return this.unlock(run.connectorId, run.id);
    });
    this.running.set(run.id, done);
    return done;
  }

  async get(id: string): Promise<SyncRunEntity> {
    const run = /^[0-9a-f-]{36}$/i.test(id) ? await this.db.getRepository(SyncRunEntity).findOneBy({ id }) : null;
    if (!run) throw new NotFoundException(`no sync run ${id}`);
    return run;
  }

  /** The whole plan a held run shows (its `plan` has the first 200 entries of each list), as digested. */
  async heldPlan(id: string): Promise<{ runId: string; planDigest: string; plan: SyncPlan }> {
    const run = await this.get(id);
    const stored = run.planDigest ? await this.db.getRepository(SyncHeldPlanEntity).findOneBy({ runId: id }) : null;
    if (!stored || !run.planDigest) throw new NotFoundException(`run ${id} has no stored plan (only runs held with a plan keep one)`);
    return { runId: id, planDigest: run.planDigest, plan: storedPlan(stored.plan) };
  }

  /**
   * An admin approves a held run, quoting the digest of the plan it shows (bound to the run): a new
   * run (trigger `approval`) applies exactly that plan — Keycloak is not read again; the hold was
   * the plan's safety check. Refused (409, nothing applied, the run stays held) when the run is not
   * held (approved already, discarded, superseded by a newer run, never held), was held without a
   * plan or by a version that did not record what is checked here, the digest is not this run's
   * plan's, the connector changed since, a run of the connector is going, the IdP's provisioning
   * settings changed since (the plan would be applied under other grants), a name the plan gives a
   * user changed hands since (taken by an account, or a lookalike of one, that did not hold it), or
   * the directory moved on: a user the plan changes (or creates) is no longer in the state it was
   * planned from, or a group it creates exists now. Of concurrent approvals (and discards) one wins.
   */
  async approve(id: string, actor: string, planDigest: string) {
    const approvable = async () => {
      const held = await this.get(id);
      if (held.status === 'superseded')
        throw new ConflictException(`run ${id} was superseded by a newer run of ${held.connectorId}: approve that one, whose plan is current`);
      if (held.status !== 'held') throw new ConflictException(`run ${id} is ${held.status}, not held`);
      if (!held.planDigest)
        throw new ConflictException(`run ${id} was held without a plan (${held.reason ?? 'no reason recorded'}): there is nothing to approve; start a new run`);
      if (held.planDigest !== planDigest)
        throw new ConflictException(`the plan digest does not match run ${id}'s plan: read the run again and approve the plan it shows`);
      return held;
    };
    // The connector as it is: enabled, and not changed since the plan (its scope, mapping or realm may differ).
    const applicable = async (held: SyncRunEntity) => {
      const connector = await this.runnable(held.connectorId);
      if (connector.updatedAt > held.startedAt)
        throw new ConflictException(`connector ${connector.id} was changed after run ${id} was planned: start a new run`);
      return connector;
    };
    const first = await approvable();
    await applicable(first);
    const run = this.newRun(first.connectorId, { mode: first.mode, trigger: 'approval', requestedBy: actor, dryRun: false });
    await this.lock(first.connectorId, run.id);
    let held: SyncRunEntity;
    let connector: ConnectorEntity;
    let stored: SyncHeldPlanEntity | null;
    let plan: SyncPlan;
    let settings: EffectiveSettings;
    try {
      // Again, under the lock: a run that ended meanwhile may have superseded it, and the
      // connector may have been changed, disabled or deleted since the checks above.
      held = await approvable();
      connector = await applicable(held);
      stored = await this.db.getRepository(SyncHeldPlanEntity).findOneBy({ runId: id });
      // The plan applied is the plan digested when it was held, byte for byte, and this run's.
      if (!stored || heldPlanDigest(id, stored.plan) !== planDigest)
        throw new ConflictException(
          `run ${id}'s stored plan is missing or does not match its digest (runs held before digests were bound to their run cannot be approved): start a new run`,
        );
      if (stored.settingsDigest === null || stored.names === null)
        throw new ConflictException(
          `run ${id} was held by an earlier version, which did not record the settings and names an approval checks: start a new run`,
        );
      plan = storedPlan(stored.plan);
      settings = await this.settings.effective(connector.idp);
      const moved = await this.movedOn(connector, plan, stored, settings);
      if (moved.length) throw new ConflictException(`${moved.join('; ')}. Nothing was applied and run ${id} stays held: start a new run, which plans afresh`);
      run.counts = planCounts(plan);
      run.plan = summarizePlan(plan);
      run.planDigest = planDigest;
      await runInTransaction(this.db, async (em) => {
        const taken = await em.update(SyncRunEntity, { id, status: 'held' }, { status: 'approved' });
        if (!taken.affected) throw new ConflictException(`run ${id} is no longer held`);
        await writeAudit(em, [
          {
            actor,
            action: 'sync-run.approved',
            targetType: 'sync-run',
            targetId: id,
            before: { status: 'held', reason: held.reason, planDigest },
            after: { status: 'approved', appliedBy: run.id },
          },
        ]);
        await em.insert(SyncRunEntity, run);
      });
    } catch (err) {
      await this.unlock(first.connectorId, run.id);
      throw err;
    }
    const asOf = stored.asOf;
    const grants = { grantLocalGroups: settings.grantLocalGroups, claimLocalUsers: settings.claimLocalUsers };
    return { run, done: this.background(run, () => this.executeApproved(run, connector, held, plan, asOf, grants)) };
  }

  /**
   * What moved on since a plan was held, in words (empty when nothing did): the IdP's provisioning
   * settings; the names it gives users that changed hands; in the directory, the users it changes
   * or creates whose state is not the one it was planned from, the groups it creates that exist now.
   */
  private async movedOn(connector: ConnectorEntity, plan: SyncPlan, stored: SyncHeldPlanEntity, settings: EffectiveSettings): Promise<string[]> {
    const reasons: string[] = [];
    if (settingsDigest(settings) !== stored.settingsDigest)
      reasons.push(
        `the provisioning settings of IdP ${connector.idp} changed since this plan (model, mapping, updateOnLogin, grantLocalGroups or claimLocalUsers): it would be applied under other rules`,
      );
    const names = namesChangedSince(stored.names ?? {}, await this.namesHeldNow(plan));
    if (names.length) {
      const shown = names
        .slice(0, 5)
        .map((n) => n.replace(':', ' '))
        .join(', ');
      reasons.push(
        `${names.length} of the names this plan gives users were taken, freed or changed hands since it was held (${shown}${names.length > 5 ? ', …' : ''})`,
      );
    }
    const basis: PlanBasis = stored.basis;
    const externalIds = Object.keys(basis);
    const current: DirectoryUserState[] = [];
    const directoryGroups = await readDirectoryGroups(this.directory, connector.id, settings.grantLocalGroups);
    await readDirectoryUsers(this.directory, { source: connector.id, externalIds }, (users) => current.push(...users));
    const groupNames = directoryGroups.names;
    const ownGroups = new Map(directoryGroups.own.filter((g) => g.externalId).map((g) => [g.externalId!, g.name]));
    const users = changedSinceBasis(basis, current);
    // A group it creates exists now, or one it renames is not named as planned any more (renamed, linked or gone).
    const groups = [
      ...plan.groupsToCreate.filter((g) => groupNames.has(g.name.toLowerCase())),
      ...plan.groupsToRename.filter((r) => ownGroups.get(r.externalId) !== r.from),
      ...plan.groupsToLink.filter((l) => ownGroups.has(l.externalId)),
    ];
    if (users.length)
      this.logger.warn(
        `held plan of ${connector.id}: the directory changed for ${users.length} of its users since it was planned (Keycloak ids ${users.slice(0, 20).join(', ')}${users.length > 20 ? ', …' : ''})`,
      );
    if (users.length || groups.length) {
      const what = [
        users.length ? `${users.length} of the ${externalIds.length} users it changes or creates` : '',
        groups.length ? `${groups.length} of the groups it creates, renames or links are not as planned any more` : '',
      ]
        .filter(Boolean)
        .join('; ');
      reasons.push(`the directory changed since this plan (${what})`);
    }
    return reasons;
  }

  /** Who holds each name the plan gives users now, in the directory (any account, or a lookalike of its username). */
  private async namesHeldNow(plan: SyncPlan): Promise<NamesBasis> {
    const names = namesGiven(plan);
    const held: Awaited<ReturnType<DirectoryClient['namesHeld']>>['held'] = [];
    // An answer names every holder (~250 bytes each): 2,000 usernames and 2,000 emails, all held,
    // came to ~1 MB, the NATS server's default max_payload; 500 of each, ~250 kB. (A margin, not a
    // bound: the directory does not cut this answer by size yet.)
    for (let i = 0; i < Math.max(names.usernames.length, names.emails.length); i += NAMES_PER_REQUEST) {
      held.push(
        ...(
          await this.directory.namesHeld({ usernames: names.usernames.slice(i, i + NAMES_PER_REQUEST), emails: names.emails.slice(i, i + NAMES_PER_REQUEST) })
        ).held,
      );
    }
    return namesBasis(names, held);
  }

  async discard(id: string, actor: string) {
    const held = await this.get(id);
    if (held.status !== 'held') throw new ConflictException(`run ${id} is ${held.status}, not held`);
    await runInTransaction(this.db, async (em) => {
      // The guard an approval takes the run with: only while it is held, in one conditional update
      // (an approval or discard that committed since wins; this one is refused and writes nothing).
      const taken = await em.update(SyncRunEntity, { id, status: 'held' }, { status: 'discarded' });
      if (!taken.affected) throw new ConflictException(`run ${id} is no longer held`);
      await writeAudit(em, [{ actor, action: 'sync-run.discarded', targetType: 'sync-run', targetId: id, before: { status: 'held', reason: held.reason } }]);
    });
    return this.get(id);
  }

  private async unlock(connectorId: string, runId: string): Promise<void> {
    await this.db.getRepository(SyncLockEntity).delete({ connectorId, runId });
  }

  private async lock(connectorId: string, runId: string): Promise<void> {
    const locks = this.db.getRepository(SyncLockEntity);
    await locks.delete({ connectorId, expiresAt: LessThan(new Date()) });
    try {
      await locks.insert({ connectorId, runId, expiresAt: new Date(Date.now() + LOCK_MS) });
    } catch {
      const held = await locks.findOneBy({ connectorId });
      throw new ConflictException(`a sync of ${connectorId} is already running (run ${held?.runId ?? 'unknown'})`);
    }
  }

  private async progress(run: SyncRunEntity, progress: Record<string, unknown>): Promise<void> {
    run.progress = progress;
    await this.db.getRepository(SyncRunEntity).update({ id: run.id }, { progress: progress as any });
  }

  /**
   * A run ends: its row; the older held runs of the connector it supersedes (when it applied, or
   * was held with a plan of its own: theirs are no longer current); `sync.completed`.
   */
  private async finish(
    run: SyncRunEntity,
    connector: ConnectorEntity,
    started: number,
    status: SyncRunEntity['status'],
    patch: Partial<SyncRunEntity>,
  ): Promise<SyncRunEntity> {
    Object.assign(run, patch, { status, finishedAt: new Date() });
    await this.db.getRepository(SyncRunEntity).update({ id: run.id }, { ...patch, status, finishedAt: run.finishedAt, progress: run.progress });
    if (status === 'applied' || (status === 'held' && run.planDigest)) {
      await this.db
        .getRepository(SyncRunEntity)
        .update({ connectorId: connector.id, status: 'held', startedAt: LessThan(run.startedAt) }, { status: 'superseded' });
    }
    const counts = run.counts ?? {};
    await this.bus
      .publish(SyncCompletedV1, {
        connectorId: connector.id,
        runId: run.id,
        status: status === 'dry-run' ? 'dry-run' : status === 'applied' ? 'applied' : status === 'held' ? 'held' : 'failed',
        counts: {
          usersCreated: counts.usersCreated ?? 0,
          usersUpdated: counts.usersUpdated ?? 0,
          usersDisabled: counts.usersDisabled ?? 0,
          usersDeleted: counts.usersDeleted ?? 0,
          groupsCreated: counts.groupsCreated ?? 0,
          membershipsAdded: counts.membershipsAdded ?? 0,
          membershipsRemoved: counts.membershipsRemoved ?? 0,
        },
        durationMs: Date.now() - started,
        ...(run.reason ? { error: run.reason } : {}),
      })
      .catch((err) => this.logger.warn(`sync.completed for ${run.id} not published: ${(err as Error).message}`));
    this.logger.log(`sync ${connector.id} run ${run.id}: ${status}${run.reason ? ` (${run.reason})` : ''} in ${Date.now() - started} ms`);
    return run;
  }

  private async execute(run: SyncRunEntity, connector: ConnectorEntity, req: SyncRequest): Promise<SyncRunEntity> {
    const started = Date.now();
    const finish = (status: SyncRunEntity['status'], patch: Partial<SyncRunEntity>) => this.finish(run, connector, started, status, patch);

    // Where the time went, shown with the run (reading Keycloak, reading the directory, planning, applying).
    const timingsMs: Record<string, number> = {};
    let mark = Date.now();
    const lap = (phase: string) => {
      timingsMs[phase] = Date.now() - mark;
      mark = Date.now();
    };
    // What the directory decided about identities (conflicts, released names), kept even when a later batch fails.
    const identity: IdentityOutcome = { conflicts: [], released: [] };
    const tally = newTally();
    let shown: Record<string, unknown> | undefined;
    try {
      // The connector changes only what it owns, and what the admin granted its IdP.
      const settings = await this.settings.effective(connector.idp);
      const grants = { grantLocalGroups: settings.grantLocalGroups, claimLocalUsers: settings.claimLocalUsers };
      const planned = await this.planRun(run, connector, req.mode ?? 'full', grants, lap);
      // An error or a timeout from Keycloak must not read as "everyone left": hold, apply nothing.
      if ('keycloakFailed' in planned)
        return await finish('held', {
          reason: `held, nothing was applied: ${planned.keycloakFailed}`,
          progress: { phase: 'held', percent: 100 },
        } as Partial<SyncRunEntity>);
      const { plan, safety, about } = planned;
      const base = { mode: planned.mode, counts: run.counts, plan: summarizePlan(plan) };
      shown = base.plan;
      if (req.dryRun) return await finish('dry-run', { ...base, progress: { phase: 'done', ...about, percent: 100, timingsMs } } as Partial<SyncRunEntity>);
      if (safety.hold) {
        // The whole plan is kept with the run: an approval applies it, exactly, or nothing.
        const planDigest = await this.keepHeldPlan(run, plan, planned.basis!, planned.asOf, settings);
        return await finish('held', {
          ...base,
          planDigest,
          reason: `held for approval: ${safety.reason}`,
          progress: { phase: 'held', ...about, percent: 100, timingsMs },
        } as Partial<SyncRunEntity>);
      }
      const { writes, namesRefused } = await this.apply(run, connector.id, plan, grants, identity, tally);
      lap('apply');
      // Users and groups the directory left out for their names: the run goes on, and says so.
      if (namesRefused.length)
        this.logger.warn(
          `sync ${connector.id} run ${run.id}: ${namesRefused.length} names refused by the directory's name rules (see the run's plan.namesRefused)`,
        );
      const reported = {
        ...base.plan,
        ...(namesRefused.length ? { namesRefused: { total: namesRefused.length, items: namesRefused.slice(0, 200) } } : {}),
        ...this.identityReport(connector.id, run.id, identity),
      };
      return await finish('applied', {
        ...base,
        counts: runCounts(tally, run.counts, plan, identity),
        plan: reported,
        changesUntil: planned.asOf,
        directoryWrites: writes,
        progress: { phase: 'done', ...about, percent: 100, timingsMs },
      } as Partial<SyncRunEntity>);
    } catch (err) {
      // A failed run keeps what it planned and what it did, and ends in a final state.
      const plan = shown ? { ...shown, ...this.identityReport(connector.id, run.id, identity) } : undefined;
      return await finish('failed', {
        reason:
          err instanceof ApplyFailed
            ? `${err.message}; ${err.applied} of ${err.total} batches are applied, the next run finishes the job`
            : (err as Error).message,
        directoryWrites: run.directoryWrites,
        // Once applying began, what the directory applied so far; before, what was planned.
        ...(tally.batches > 0 || err instanceof ApplyFailed
          ? { counts: runCounts(tally, null, null, identity) }
          : run.counts
            ? { counts: { ...run.counts, usersConflicting: identity.conflicts.length } }
            : {}),
        ...(plan ? { plan } : {}),
        progress: { ...run.progress, phase: 'failed', failedIn: run.progress?.phase, percent: 100 },
      } as Partial<SyncRunEntity>);
    }
  }

  /** The run's conflicts and released names, as its plan shows them; conflicts are logged and counted (a metric). */
  private identityReport(connectorId: string, runId: string, identity: IdentityOutcome): Record<string, unknown> {
    if (identity.conflicts.length) {
      this.conflictsTotal.inc({ connector: connectorId }, identity.conflicts.length);
      this.logger.warn(
        `sync ${connectorId} run ${runId}: ${identity.conflicts.length} users left out, their username or email is another account's (see the run's plan.conflicts)`,
      );
    }
    return {
      conflicts: { total: identity.conflicts.length, items: identity.conflicts.slice(0, 200) },
      namesReleased: { total: identity.released.length, items: identity.released.slice(0, 200) },
    };
  }

  /**
   * Both sides read and compared: the plan and its safety. Keycloak's side is held whole; the
   * directory's is folded into the plan a page at a time and not kept (at 100k each side is
   * about as large as the other). What was read is let go before the apply, which takes longest.
   */
  private async planRun(run: SyncRunEntity, connector: ConnectorEntity, mode: SyncMode, grants: OwnershipGrants, lap: (phase: string) => void) {
    let read: KeycloakRead | undefined;
    try {
      await this.progress(run, { phase: 'reading-keycloak', percent: 5 });
      read = await this.readKeycloak(run, connector, mode);
    } catch (err) {
      return { keycloakFailed: (err as Error).message };
    }
    lap('keycloak');
    const { named, asOf } = read;
    const about = { mode: read.mode, ...(read.fullBecause ? { fullBecause: read.fullBecause } : {}), ...(named ? { usersNamed: named.length } : {}) };
    run.mode = read.mode;
    await this.progress(run, { phase: 'reading-directory', ...about, users: read.snapshot.users.length, groups: read.snapshot.groups.length, percent: 30 });
    const planner = new SyncPlanner(read.snapshot, connector.options);
    read = undefined; // the planner keeps what it needs of the snapshot (not Keycloak's member lists)
    // A full run's pages hold all the connector's users, so the planner counts the active ones; a
    // changes run's hold only the named users, so the directory counts them.
    const { groupNames, notGrantable, activeUsers } = named
      ? await this.directoryStateOf(connector.id, named, grants, planner)
      : { ...(await this.directoryState(connector.id, grants, planner)), activeUsers: planner.directory.activeUsers };
    lap('directory');
    const plan = planner.finish(groupNames, notGrantable);
    run.counts = planCounts(plan) as unknown as Record<string, number>;
    const safety = assessSyncPlan(plan, { idpUsers: planner.idpUsers, activeUsers, partial: !!named }, connector.options);
    // What each change was planned from, kept with a held plan (an approval checks it).
    const basis = safety.hold ? planner.basis : undefined;
    lap('plan');
    return { mode: about.mode, asOf, about, plan, safety, basis };
  }

  /**
   * Stores a held run's whole plan with what an approval checks — its users' basis, the digest of
   * the settings it was made under, who holds the names it gives users — and Keycloak's time of
   * the read; the plan's digest, bound to the run.
   */
  private async keepHeldPlan(run: SyncRunEntity, plan: SyncPlan, basis: PlanBasis, asOf: number, settings: EffectiveSettings): Promise<string> {
    const text = JSON.stringify(plan);
    const names = await this.namesHeldNow(plan);
    await this.db
      .getRepository(SyncHeldPlanEntity)
      .insert({ runId: run.id, plan: text, basis, settingsDigest: settingsDigest(settings), names, asOf, createdAt: new Date() });
    return heldPlanDigest(run.id, text);
  }

  /**
   * An approved plan, applied as planned, under the settings the approval checked (the approval
   * checked the directory's side just before, under the connector's lock). Keycloak is not read:
   * changes runs continue from where the held run read it. When applying fails the run says what
   * failed and how much was applied; if the directory certainly applied nothing (its first answers
   * refused their batches), the held run is held again and may be approved again, else it stays
   * approved: its plan is never applied twice, and the next run plans what is left.
   */
  private async executeApproved(
    run: SyncRunEntity,
    connector: ConnectorEntity,
    held: SyncRunEntity,
    plan: SyncPlan,
    asOf: number,
    grants: OwnershipGrants,
  ): Promise<SyncRunEntity> {
    const started = Date.now();
    const progress = { phase: 'done', mode: held.mode, approved: held.id, percent: 100 };
    const identity: IdentityOutcome = { conflicts: [], released: [] };
    const tally = newTally();
    try {
      const { writes, namesRefused } = await this.apply(run, connector.id, plan, grants, identity, tally);
      const reported = {
        ...run.plan,
        ...(namesRefused.length ? { namesRefused: { total: namesRefused.length, items: namesRefused.slice(0, 200) } } : {}),
        ...this.identityReport(connector.id, run.id, identity),
      };
      return await this.finish(run, connector, started, 'applied', {
        plan: reported,
        counts: runCounts(tally, run.counts, plan, identity),
        changesUntil: asOf,
        directoryWrites: writes,
        progress: { ...progress, timingsMs: { apply: Date.now() - started } },
      });
    } catch (err) {
      const message = (err as Error).message;
      const heldAgain = err instanceof ApplyFailed && err.nothingApplied && (await this.holdAgain(held.id, run.id, message));
      const reason = heldAgain
        ? `applying the approved plan of run ${held.id} failed and nothing was applied: ${message}. Run ${held.id} is held again: approve it again once the cause is fixed, or start a new run`
        : `applying the approved plan of run ${held.id} failed${err instanceof ApplyFailed ? ` after ${err.applied} of ${err.total} batches` : ''}: ${message}. Run ${held.id} stays approved (a plan is never applied twice): the next run plans what is left afresh`;
      return await this.finish(run, connector, started, 'failed', {
        reason,
        directoryWrites: run.directoryWrites,
        counts: runCounts(tally, null, null, identity),
        plan: { ...run.plan, ...this.identityReport(connector.id, run.id, identity) },
        progress: { ...progress, phase: 'failed', failedIn: 'applying', heldAgain },
      });
    }
  }

  /** An approval that applied nothing gives its held run back (approved → held, audited); false if it was not approved any more. */
  private async holdAgain(heldId: string, runId: string, cause: string): Promise<boolean> {
    try {
      return await runInTransaction(this.db, async (em) => {
        const back = await em.update(SyncRunEntity, { id: heldId, status: 'approved' }, { status: 'held' });
        if (!back.affected) return false;
        await writeAudit(em, [
          {
            actor: `sync:${runId}`,
            action: 'sync-run.held-again',
            targetType: 'sync-run',
            targetId: heldId,
            before: { status: 'approved', appliedBy: runId },
            after: { status: 'held', cause },
          },
        ]);
        return true;
      });
    } catch (err) {
      this.logger.warn(`run ${heldId} not held again after its approval ${runId} applied nothing: ${(err as Error).message}`);
      return false;
    }
  }

  /**
   * Keycloak's side of a run. A changes run continues from the last applied run of the connector
   * and reads the users the realm's events name; it reads the whole realm instead (and says why)
   * when there is no such run, the connector changed since, or the events name something that
   * cannot be pinned to users. Keycloak's clock is read first, so nothing that happens while the
   * run reads is skipped by the next one.
   */
  private async readKeycloak(run: SyncRunEntity, connector: ConnectorEntity, mode: SyncMode): Promise<KeycloakRead> {
    const kc = this.connectors.client(connector);
    const asOf = await kc.clock();
    let fullBecause: string | undefined;
    if (mode === 'changes') {
      const from = await this.changesFrom(connector);
      if ('since' in from) {
        const verdict = await kc.changes(from.since, CHANGES);
        if (verdict.kind === 'users') {
          await this.progress(run, { phase: 'reading-keycloak:named-users', mode, usersNamed: verdict.userIds.length, percent: 10 });
          return { mode, asOf, named: verdict.userIds, snapshot: await kc.users(verdict.userIds, connector.options.attributes) };
        }
        fullBecause = verdict.reason;
      } else {
        fullBecause = from.reason;
      }
    }
    // The read's progress, at most one write every 250 ms (a 1,000-group realm reports 1,000 member lists).
    let written = 0;
    const onProgress = (phase: string, n: number) => {
      if (Date.now() - written < 250) return;
      written = Date.now();
      this.progress(run, { phase: `reading-keycloak:${phase}`, [phase]: n, percent: 10 }).catch((err) =>
        this.logger.warn(`progress of run ${run.id} not saved: ${(err as Error).message}`),
      );
    };
    const snapshot = await kc.snapshot({ attributes: connector.options.attributes, onProgress });
    return { mode: 'full', asOf, snapshot, fullBecause };
  }

  /** Where a changes run continues from: the last applied run's Keycloak time, if nothing since makes it unusable. */
  private async changesFrom(connector: ConnectorEntity): Promise<{ since: number } | { reason: string }> {
    const last = await this.db.getRepository(SyncRunEntity).findOne({ where: { connectorId: connector.id, status: 'applied' }, order: { startedAt: 'DESC' } });
    if (!last || last.changesUntil === null) return { reason: 'no earlier applied run to continue from' };
    if (connector.updatedAt > last.startedAt) return { reason: 'the connector was changed after the last applied run' };
    return { since: last.changesUntil };
  }

  /**
   * Every page of what the directory holds for this connector, into the planner: its groups first
   * (syncGroups' pages), then its users; the directory's group names, and those the connector may
   * not join. The pages are cut by size in the directory, so no directory is too large to read.
   */
  private async directoryState(source: string, grants: OwnershipGrants, planner: SyncPlanner): Promise<{ groupNames: Set<string>; notGrantable: Set<string> }> {
    const groups = await readDirectoryGroups(this.directory, source, grants.grantLocalGroups);
    planner.directoryGroups(groups.own, groups.names);
    await readDirectoryUsers(this.directory, { source }, (users) => planner.add(users));
    return { groupNames: groups.names, notGrantable: groups.notGrantable };
  }

  /** What the directory holds of these users (a changes run), into the planner, and the connector's active-user count. */
  private async directoryStateOf(
    source: string,
    externalIds: string[],
    grants: OwnershipGrants,
    planner: SyncPlanner,
  ): Promise<{ groupNames: Set<string>; notGrantable: Set<string>; activeUsers: number }> {
    const groups = await readDirectoryGroups(this.directory, source, grants.grantLocalGroups);
    planner.directoryGroups(groups.own, groups.names);
    const { activeUsers } = await readDirectoryUsers(this.directory, { source, externalIds }, (users) => planner.add(users));
    return { groupNames: groups.names, notGrantable: groups.notGrantable, activeUsers: activeUsers ?? 0 };
  }

  /**
   * The plan in batches, each one directory transaction; progress after each. Phases go in order
   * (groups, activity, deletions, renames, other updates and creates, memberships added,
   * memberships removed), since later ones name what earlier ones create or free; within a phase
   * the batches touch different rows, and two are in flight at once so the directory prepares one
   * while PostgreSQL writes the other (renames one after another, in the plan's order).
   */
  private async apply(
    run: SyncRunEntity,
    source: string,
    plan: SyncPlan,
    grants: OwnershipGrants,
    identity: IdentityOutcome,
    tally: AppliedTally,
  ): Promise<{ writes: number; namesRefused: { kind: string; name: string; externalId?: string; reason: string }[] }> {
    type Batch = Parameters<DirectoryClient['syncApply']>[0];
    const identityOf = new Map(plan.groupIdentities.map((g) => [g.group.toLowerCase(), g]));
    /** The IdP groups of a batch's memberships. */
    const identitiesOf = (memberships: { group: string }[]) =>
      [...new Set(memberships.map((m) => m.group.toLowerCase()))].flatMap((g) => identityOf.get(g) ?? []);
    const actor = `sync:${run.id}`;
    /** A phase's batches: at most `size` items, and (with `maxBytes`) at most that much JSON, but at least one item each. */
    const phase = <T>(list: T[], size: number, batch: (slice: T[]) => Partial<Batch>, maxBytes = Infinity): Batch[] => {
      const out: Batch[] = [];
      for (let i = 0; i < list.length;) {
        let end = Math.min(i + size, list.length);
        if (maxBytes !== Infinity) {
          let bytes = 0;
          for (let j = i; j < end; j++) {
            bytes += Buffer.byteLength(JSON.stringify(list[j]));
            if (bytes > maxBytes && j > i) {
              end = j;
              break;
            }
          }
        }
        out.push({ source, actor, grantLocalGroups: grants.grantLocalGroups, claimLocalUsers: grants.claimLocalUsers, ...batch(list.slice(i, end)) });
        i = end;
      }
      return out;
    };
    // Users who leave (disabled, deleted) go first, so their names are free for the upserts; renames
    // (ordered by the plan) one batch after another, before the other updates and the creates, so
    // a new user may take a renamed user's old name in the same run.
    const renames = plan.update.filter((u) => u.changes.some((c) => c.field === 'username'));
    const others = plan.update.filter((u) => !renames.includes(u));
    const phases = [
      // The renames in one batch (they go through temporary names, which needs them all at once);
      // then the links and the new groups, a batch after another (each checked against the names
      // the earlier ones made: no two batches race for lookalike names), cut by count and size.
      phase(plan.groupsToRename.length ? [plan] : [], 1, () => ({ groupsToRename: plan.groupsToRename })),
      Object.assign(
        phase(plan.groupsToLink, BATCH.groups, (groupsToLink) => ({ groupsToLink }), BATCH.upsertBytes),
        { inOrder: true },
      ),
      Object.assign(
        phase(plan.groupsToCreate, BATCH.groups, (groupsToCreate) => ({ groupsToCreate }), BATCH.upsertBytes),
        { inOrder: true },
      ),
      phase([...plan.enable.map((u) => ({ id: u.id, active: true })), ...plan.disable.map((u) => ({ id: u.id, active: false }))], BATCH.ids, (setActive) => ({
        setActive,
      })),
      phase(plan.delete, BATCH.ids, (doomed) => ({ delete: doomed.map((u) => u.id) })),
      Object.assign(
        phase(
          renames.map((u) => u.fields),
          BATCH.upsert,
          (upsert) => ({ upsert }),
          BATCH.upsertBytes,
        ),
        { inOrder: true },
      ),
      phase([...others.map((u) => u.fields), ...plan.create], BATCH.upsert, (upsert) => ({ upsert }), BATCH.upsertBytes),
      phase(
        plan.addMemberships,
        BATCH.memberships,
        (addMemberships) => ({ addMemberships, groupIdentities: identitiesOf(addMemberships) }),
        BATCH.membershipBytes,
      ),
      phase(
        plan.removeMemberships,
        BATCH.memberships,
        (removeMemberships) => ({ removeMemberships, groupIdentities: identitiesOf(removeMemberships) }),
        BATCH.membershipBytes,
      ),
    ];
    const total = phases.reduce((n, p) => n + p.length, 0);
    let writes = 0;
    let applied = 0;
    /** A batch whose outcome is unknown (no answer, a broken connection): it may have been written. */
    let unsure = false;
    // The values the plan left out for being over the property limits come first; then the directory's refusals.
    const namesRefused: { kind: string; name: string; externalId?: string; reason: string }[] = (plan.valuesRefused ?? []).map((v) => ({
      kind: 'value',
      name: v.field,
      externalId: v.externalId,
      reason: v.reason,
    }));
    for (const batches of phases) {
      const inFlight = 'inOrder' in batches ? 1 : APPLY_IN_FLIGHT;
      let next = 0;
      let failed: Error | undefined;
      const worker = async () => {
        while (next < batches.length && !failed) {
          const batch = batches[next++];
          const reply = await this.directory.syncApply(batch).catch((err: Error) => {
            failed ??= err;
            unsure = true;
            return null;
          });
          if (!reply) return;
          if (reply.status !== 'applied') {
            failed ??= new Error(`the directory refused a batch (${reply.code}): ${reply.message}`);
            return;
          }
          writes += reply.writes;
          addApplied(tally, reply.counts);
          if (reply.refused) namesRefused.push(...reply.refused);
          if (reply.conflicts) identity.conflicts.push(...reply.conflicts);
          if (reply.released) identity.released.push(...reply.released);
          applied++;
          run.directoryWrites = writes;
          await this.progress(run, { phase: 'applying', applied, total, percent: 40 + Math.round((60 * applied) / total) });
          await this.db.getRepository(SyncLockEntity).update({ connectorId: source, runId: run.id }, { expiresAt: new Date(Date.now() + LOCK_MS) });
        }
      };
      await Promise.all(Array.from({ length: Math.min(inFlight, batches.length) }, worker));
      if (failed) throw new ApplyFailed((failed as Error).message, applied, total, applied === 0 && !unsure);
    }
    await this.db.getRepository(SyncRunEntity).update({ id: run.id }, { directoryWrites: writes });
    return { writes, namesRefused };
  }
}

/** Applying a plan stopped: how far it got, and whether the directory certainly wrote nothing (every answer so far refused its batch). */
export class ApplyFailed extends Error {
  constructor(
    message: string,
    readonly applied: number,
    readonly total: number,
    readonly nothingApplied: boolean,
  ) {
    super(message);
  }
}

/** What the directory decided about identities while applying (see the syncApply reply). */
export interface IdentityOutcome {
  conflicts: { externalId: string; username: string; reason: string }[];
  released: { id: string; externalId: string | null; from: string; to: string; emailReleased?: true }[];
}

/**
 * What a run applied, from the directory's answers (each says what its batch wrote, by kind);
 * `reported` is false once an answer did not say (a directory older than its `counts`).
 */
export interface AppliedTally {
  counts: SyncAppliedCounts;
  reported: boolean;
  batches: number;
}

export function newTally(): AppliedTally {
  const zero = {
    usersCreated: 0,
    usersUpdated: 0,
    usersEnabled: 0,
    usersDisabled: 0,
    usersDeleted: 0,
    groupsCreated: 0,
    groupsRenamed: 0,
    groupsLinked: 0,
    membershipsAdded: 0,
    membershipsRemoved: 0,
    propertiesChanged: 0,
    propertiesRemoved: 0,
  };
  return { counts: zero, reported: true, batches: 0 };
}

export function addApplied(tally: AppliedTally, counts: SyncAppliedCounts | undefined): void {
  tally.batches++;
  if (!counts) {
    tally.reported = false;
    return;
  }
  for (const k of Object.keys(tally.counts) as (keyof SyncAppliedCounts)[]) tally.counts[k] += counts[k];
}

/**
 * A run's counts once it applied (or failed while applying): what the directory wrote — users and
 * groups refused for their names, users left out as conflicts and writes that found nothing to
 * change are not in them — and the users left out as conflicts. Only when a directory did not
 * report its counts, the plan's (less the conflicts) stand in, given the plan.
 */
export function runCounts(
  tally: AppliedTally,
  planned: Record<string, number> | null,
  plan: SyncPlan | null,
  identity: IdentityOutcome,
): Record<string, number> {
  if (!tally.reported && plan) return countsAfter(planned, plan, identity);
  return { ...tally.counts, usersConflicting: new Set(identity.conflicts.map((c) => c.externalId)).size };
}

/** The plan's counts, less the users the directory left out as conflicts, and how many those were. */
export function countsAfter(counts: Record<string, number> | null, plan: SyncPlan, identity: IdentityOutcome): Record<string, number> {
  const left = new Set(identity.conflicts.map((c) => c.externalId));
  const created = plan.create.filter((u) => left.has(u.externalId)).length;
  const updated = plan.update.filter((u) => left.has(u.externalId)).length;
  return { ...counts, usersCreated: (counts?.usersCreated ?? 0) - created, usersUpdated: (counts?.usersUpdated ?? 0) - updated, usersConflicting: left.size };
}

/**
 * A held run's stored plan. Plans held before groups were linked by IdP id name the groups they
 * create by name only and rename or link none.
 */
export function storedPlan(text: string): SyncPlan {
  const plan = JSON.parse(text) as SyncPlan;
  plan.groupsToCreate = (plan.groupsToCreate as (SyncPlan['groupsToCreate'][number] | string)[]).map((g) =>
    typeof g === 'string' ? { name: g, externalId: null } : g,
  );
  plan.groupsToRename ??= [];
  plan.groupsToLink ??= [];
  plan.groupIdentities ??= [];
  plan.groupRenamesRefused ??= [];
  return plan;
}

/** The plan as stored with the run: counts, and the first 200 entries of each list. */
export function summarizePlan(plan: SyncPlan): Record<string, unknown> {
  const cap = <T>(list: T[]) => ({ total: list.length, items: list.slice(0, 200) });
  return {
    create: cap(plan.create.map(({ properties: _p, ...u }) => u)),
    update: cap(plan.update.map((u) => ({ id: u.id, username: u.username, changes: u.changes }))),
    enable: cap(plan.enable),
    disable: cap(plan.disable),
    delete: cap(plan.delete),
    groupsToCreate: cap(plan.groupsToCreate),
    groupsToRename: cap(plan.groupsToRename),
    groupsToLink: cap(plan.groupsToLink),
    groupRenamesRefused: cap(plan.groupRenamesRefused),
    valuesRefused: cap(plan.valuesRefused ?? []),
    addMemberships: cap(plan.addMemberships),
    removeMemberships: cap(plan.removeMemberships),
    groupsRefused: cap(plan.groupsRefused),
    seatsDelta: plan.seatsDelta,
  };
}
