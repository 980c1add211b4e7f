import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { IdpCreatedV1, IdpDeletedV1, IdpUpdatedV1 } from '@bridgekeeper/contracts';
import { EventBus } from '@bridgekeeper/messaging';
import { IdpSettingsService } from './idp-settings.service';

/**
 * auth's idp.* events (JetStream, durable: a provisioning that was down catches up at its start):
 * thin, they call the service. One at a time per subject; the service orders an IdP's events by
 * when they happened, so the three consumers may run side by side.
 */
@Injectable()
export class IdpLifecycleEvents implements OnApplicationBootstrap {
  constructor(
    private readonly bus: EventBus,
    private readonly settings: IdpSettingsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.consume(IdpCreatedV1, { durable: 'provisioning__idp-created', concurrency: 1 }, (event) => this.settings.idpChanged(event));
    await this.bus.consume(IdpUpdatedV1, { durable: 'provisioning__idp-updated', concurrency: 1 }, (event) => this.settings.idpChanged(event));
    await this.bus.consume(IdpDeletedV1, { durable: 'provisioning__idp-deleted', concurrency: 1 }, (event) => this.settings.idpDeleted(event));
  }
}
