import { ConflictException, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { InjectRepository } from '@nestjs/typeorm';
import { CronJob } from 'cron';
import { Repository } from 'typeorm';
import { ConnectorEntity } from '../connectors/connector.entity';
import { SyncMode } from './sync-run.entity';
import { SyncService } from './sync.service';

/**
 * Each enabled connector's schedules (cron, UTC): full runs, and changes runs. Every instance
 * schedules; the run lock lets one of them run and the others step aside, as does a tick that
 * comes while a run of the connector is still going (a changes run during a long full run).
 */
@Injectable()
export class SyncScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SyncScheduler.name);

  constructor(
    private readonly registry: SchedulerRegistry,
    private readonly sync: SyncService,
    @InjectRepository(ConnectorEntity) private readonly connectors: Repository<ConnectorEntity>,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.refresh();
  }

  onApplicationShutdown(): void {
    for (const name of this.registry.getCronJobs().keys()) if (name.startsWith('sync:')) this.registry.deleteCronJob(name);
  }

  async refresh(): Promise<void> {
    for (const name of [...this.registry.getCronJobs().keys()]) if (name.startsWith('sync:')) this.registry.deleteCronJob(name);
    for (const c of await this.connectors.findBy({ enabled: true })) {
      for (const [mode, cronTime] of [['full', c.schedule], ['changes', c.changesSchedule]] as const) {
        if (!cronTime) continue;
        const job = CronJob.from({ cronTime, timeZone: 'UTC', start: true, onTick: () => void this.tick(c.id, mode) });
        this.registry.addCronJob(`sync:${c.id}:${mode}`, job as never);
      }
    }
  }

  private async tick(connectorId: string, mode: SyncMode): Promise<void> {
    try {
      await this.sync.start(connectorId, { dryRun: false, mode, trigger: 'schedule', requestedBy: 'schedule' });
    } catch (err) {
      if (err instanceof ConflictException) return; // another instance, or a long run, has it
      this.logger.warn(`scheduled sync of ${connectorId} did not start: ${(err as Error).message}`);
    }
  }
}
