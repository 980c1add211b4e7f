import { Injectable, Logger } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { SamlRequestStore } from './saml-stores.service';

/** Drops expired SAML request ids (the login-wide stores: login/housekeeping.service.ts). */
@Injectable()
export class SamlHousekeepingService {
  private readonly logger = new Logger(SamlHousekeepingService.name);

  constructor(private readonly requests: SamlRequestStore) {}

  @Interval(60_000)
  async purge(): Promise<void> {
    try {
      await this.requests.purgeExpired();
    } catch (err) {
      this.logger.warn(`purging expired SAML request ids failed: ${(err as Error).message}`);
    }
  }
}
