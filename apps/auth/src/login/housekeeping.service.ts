import { Injectable, Logger } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { AssertionReplayStore, SamlRequestStore } from '../saml/saml-stores.service';
import { LoginFlowService } from './login-flow.service';

/** Drops expired login states, request ids and remembered assertion ids. */
@Injectable()
export class HousekeepingService {
  private readonly logger = new Logger(HousekeepingService.name);

  constructor(
    private readonly flow: LoginFlowService,
    private readonly requests: SamlRequestStore,
    private readonly assertions: AssertionReplayStore,
  ) {}

  @Interval(60_000)
  async purge(): Promise<void> {
    try {
      await Promise.all([this.flow.purgeExpired(), this.requests.purgeExpired(), this.assertions.purgeExpired()]);
    } catch (err) {
      this.logger.warn(`purging expired login state failed: ${(err as Error).message}`);
    }
  }
}
