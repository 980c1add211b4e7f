import { ConflictException, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SyncRequestedV1 } from '@bridgekeeper/contracts';
import { EventBus } from '@bridgekeeper/messaging';
import { SyncService } from './sync.service';

/** `sync.requested` starts a run (the handler returns once it has started; progress is in the run). */
@Injectable()
export class SyncEvents implements OnApplicationBootstrap {
  private readonly logger = new Logger(SyncEvents.name);

  constructor(
    private readonly bus: EventBus,
    private readonly sync: SyncService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.consume(SyncRequestedV1, { durable: 'provisioning__sync-requested' }, async (event) => {
      try {
        await this.sync.start(event.data.connectorId, {
          dryRun: event.data.dryRun,
          mode: event.data.mode,
          trigger: 'event',
          requestedBy: event.data.requestedBy,
        });
      } catch (err) {
        if (err instanceof ConflictException) return this.logger.log(`sync.requested for ${event.data.connectorId} skipped: ${err.message}`);
        throw err;
      }
    });
  }
}
