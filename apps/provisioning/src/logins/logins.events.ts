import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { CONSUMERS, UserAuthenticatedV1 } from '@bridgekeeper/contracts';
import { EventBus } from '@bridgekeeper/messaging';
import { PROVISIONING_CONFIG, ProvisioningConfig } from '../config/provisioning.config';
import { LoginsService } from './logins.service';

/** JetStream handlers: thin, they call the service. */
@Injectable()
export class LoginsEvents implements OnApplicationBootstrap {
  constructor(
    private readonly bus: EventBus,
    private readonly logins: LoginsService,
    @Inject(PROVISIONING_CONFIG) private readonly config: ProvisioningConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.consume(UserAuthenticatedV1, { durable: CONSUMERS.provisioningLogins, maxDeliver: this.config.events.maxDeliver }, async (event) => {
      await this.logins.handleAuthenticated(event);
    });
  }
}
