import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Envelope, EventData, UserProvisionedV1, UserRejectedV1 } from '@bridgekeeper/contracts';
import { EventBus } from '@bridgekeeper/messaging';

export type ProvisioningOutcome =
  | { kind: 'provisioned'; event: Envelope<EventData<typeof UserProvisionedV1>> }
  | { kind: 'rejected'; event: Envelope<EventData<typeof UserRejectedV1>> }
  | { kind: 'timeout' };

/**
 * A login waits (bounded) for provisioning's answer to its user.authenticated event. Every
 * auth instance listens to the outcomes; the one holding the login resolves it.
 */
@Injectable()
export class OutcomeWaiter implements OnApplicationBootstrap {
  private readonly pending = new Map<string, (o: ProvisioningOutcome) => void>();

  constructor(private readonly bus: EventBus) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.subscribe(UserProvisionedV1, (event) => this.settle(event.data.authEventId, { kind: 'provisioned', event }));
    await this.bus.subscribe(UserRejectedV1, (event) => this.settle(event.data.authEventId, { kind: 'rejected', event }));
  }

  /** Register before publishing, so an answer that arrives first is not lost. */
  expect(authEventId: string, timeoutMs: number): Promise<ProvisioningOutcome> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.settle(authEventId, { kind: 'timeout' }), timeoutMs);
      this.pending.set(authEventId, (outcome) => {
        clearTimeout(timer);
        resolve(outcome);
      });
    });
  }

  cancel(authEventId: string): void {
    this.settle(authEventId, { kind: 'timeout' });
  }

  private settle(authEventId: string, outcome: ProvisioningOutcome): void {
    const resolve = this.pending.get(authEventId);
    if (!resolve) return;
    this.pending.delete(authEventId);
    resolve(outcome);
  }
}
