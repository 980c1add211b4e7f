import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { UserAuthenticatedV1 } from '@bridgekeeper/contracts';
import { EventBus } from '@bridgekeeper/messaging';
import { PROVISIONING_CONFIG, ProvisioningConfig } from '../config/provisioning.config';
import { JitService } from './jit.service';

/** JetStream handlers: thin, they call the service. */
@Injectable()
export class JitEvents implements OnApplicationBootstrap {
  constructor(
    private readonly bus: EventBus,
    private readonly jit: JitService,
    @Inject(PROVISIONING_CONFIG) private readonly config: ProvisioningConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.consume(UserAuthenticatedV1, { durable: 'provisioning__user-authenticated', maxDeliver: this.config.events.maxDeliver }, async (event) => {
      await this.jit.handleAuthenticated(event);
    });
  }
}
