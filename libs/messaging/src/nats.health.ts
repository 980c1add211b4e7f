import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { NatsConnectionService } from './nats-connection.service';

@Injectable()
export class NatsHealthIndicator {
  constructor(
    private readonly nats: NatsConnectionService,
    private readonly health: HealthIndicatorService,
  ) {}

  async isHealthy(key = 'nats') {
    const indicator = this.health.check(key);
    try {
      const nc = await this.nats.nc();
      const rtt = await nc.rtt();
      return indicator.up({ rttMs: rtt });
    } catch (err) {
      return indicator.down({ message: (err as Error).message });
    }
  }
}
