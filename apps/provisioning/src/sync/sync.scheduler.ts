import { ConflictException, Inject, Injectable, Logger, NotFoundException, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { InjectRepository } from '@nestjs/typeorm';
import { CronJob } from 'cron';
import { Repository } from 'typeorm';
import { SyncConnectorChangedV1 } from '@bridgekeeper/contracts';
import { EventBus } from '@bridgekeeper/messaging';
import { PROVISIONING_CONFIG, ProvisioningConfig } from '../config/provisioning.config';
import { ConnectorEntity } from '../connectors/connector.entity';
import { SyncMode } from './sync-run.entity';
import { ConnectorDisabledException, SyncService, TickTakenException } from './sync.service';

const PREFIX = 'sync:';

/**
 * Each enabled connector's schedules (cron, UTC): full runs, and changes runs. The database is the
 * schedule: every instance reads it at boot, again on every `sync.connector.changed` (published by
 * the instance that changed a connector, heard by all) and every `reconcileMs` as a safety net, and
 * keeps a timer per (connector, mode) that matches it; unchanged timers are left alone, so no tick
 * is lost to a reload. Every instance fires each tick; the run starts once, for the instance that
 * claims the tick (connector, mode, scheduled time) in the database, however late its timer fires.
 * A tick for a connector deleted or disabled meanwhile starts nothing and reloads the schedules.
 */
@Injectable()
export class SyncScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SyncScheduler.name);
  private readonly crons = new Map<string, string>();
  private queue: Promise<void> = Promise.resolve();
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly registry: SchedulerRegistry,
    private readonly sync: SyncService,
    private readonly bus: EventBus,
    @Inject(PROVISIONING_CONFIG) private readonly config: ProvisioningConfig,
    @InjectRepository(ConnectorEntity) private readonly connectors: Repository<ConnectorEntity>,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.subscribe(SyncConnectorChangedV1, () => void this.refresh());
    await this.refresh();
    this.timer = setInterval(
      () =>
        void this.refresh()
          .then(() => this.sync.forgetTicks())
          .catch((err) => this.logger.warn(`old schedule ticks not removed: ${(err as Error).message}`)),
      this.config.sync.reconcileMs,
    );
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    clearInterval(this.timer);
    for (const name of [...this.crons.keys()]) this.remove(name);
  }

  /**
   * A connector was created, changed or deleted here: this instance reloads at once, the others on
   * the event (a failed publish is only logged: the change is committed, their reconcile finds it).
   */
  async connectorChanged(connectorId: string, change: 'created' | 'updated' | 'deleted', actor: string): Promise<void> {
    await this.refresh();
    await this.bus
      .publish(SyncConnectorChangedV1, { connectorId, change, actor })
      .catch((err) =>
        this.logger.warn(
          `sync.connector.changed for ${connectorId} not published (other instances reload within PROVISIONING_SCHEDULE_RECONCILE_MS): ${(err as Error).message}`,
        ),
      );
  }

  /** Makes this instance's timers match the database; reloads run one after another. */
  refresh(): Promise<void> {
    const next = this.queue.then(() => this.reconcile());
    this.queue = next.catch((err) => this.logger.warn(`sync schedules not reloaded: ${(err as Error).message}`));
    return this.queue;
  }

  private async reconcile(): Promise<void> {
    if (this.stopped) return;
    const wanted = new Map<string, { connectorId: string; mode: SyncMode; cronTime: string }>();
    for (const c of await this.connectors.findBy({ enabled: true })) {
      for (const [mode, cronTime] of [
        ['full', c.schedule],
        ['changes', c.changesSchedule],
      ] as const) {
        if (cronTime) wanted.set(`${PREFIX}${c.id}:${mode}`, { connectorId: c.id, mode, cronTime });
      }
    }
    for (const [name, cronTime] of [...this.crons]) if (wanted.get(name)?.cronTime !== cronTime) this.remove(name);
    for (const [name, w] of wanted) if (!this.crons.has(name)) this.add(name, w.connectorId, w.mode, w.cronTime);
  }

  private add(name: string, connectorId: string, mode: SyncMode, cronTime: string): void {
    // The tick each firing stands for is the time the schedule names, not when the timer fired:
    // the same on every instance, which is what the claim compares.
    let due = 0;
    const job: CronJob = CronJob.from({
      cronTime,
      timeZone: 'UTC',
      start: false,
      onTick: () => {
        const tick = due;
        due = job.nextDate().toMillis();
        void this.tick(connectorId, mode, tick);
      },
    });
    due = job.nextDate().toMillis();
    job.start();
    this.registry.addCronJob(name, job as never);
    this.crons.set(name, cronTime);
  }

  private remove(name: string): void {
    if (this.registry.doesExist('cron', name)) this.registry.deleteCronJob(name);
    this.crons.delete(name);
  }

  private async tick(connectorId: string, mode: SyncMode, scheduledFor: number): Promise<void> {
    try {
      await this.sync.start(connectorId, { dryRun: false, mode, trigger: 'schedule', requestedBy: 'schedule', scheduledFor });
    } catch (err) {
      if (err instanceof TickTakenException) return; // another instance started this tick
      if (err instanceof ConnectorDisabledException || err instanceof NotFoundException) {
        // Disabled or deleted since this instance last read the schedules (an event still on its way).
        this.logger.debug(`schedule of ${connectorId} is stale here (${(err as Error).message}): reloading`);
        return void this.refresh();
      }
      if (err instanceof ConflictException) return; // a run of the connector (a long full run) is going
      this.logger.warn(`scheduled sync of ${connectorId} did not start: ${(err as Error).message}`);
    }
  }
}
