import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { CONSUMERS, Envelope, EventData, UserAuthenticatedV1, UserProvisionedV1, UserRejectedV1 } from '@bridgekeeper/contracts';
import { EventBus } from '@bridgekeeper/messaging';
import { LoginTraceService } from '../login-trace/login-trace.service';

export type ProvisioningOutcome =
  | { kind: 'provisioned'; event: Envelope<EventData<typeof UserProvisionedV1>> }
  | { kind: 'rejected'; event: Envelope<EventData<typeof UserRejectedV1>> }
  | { kind: 'failed'; reason: string }
  | { kind: 'timeout' };

/**
 * A login waits (bounded) for provisioning's answer to its user.authenticated event. Every
 * auth instance listens to the outcomes; the one holding the login resolves it.
 */
@Injectable()
export class OutcomeWaiter implements OnApplicationBootstrap {
  private readonly pending = new Map<string, (o: ProvisioningOutcome) => void>();

  constructor(
    private readonly bus: EventBus,
    private readonly traces: LoginTraceService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.subscribe(UserProvisionedV1, (event) => this.settle(event.data.authEventId, { kind: 'provisioned', event }));
    await this.bus.subscribe(UserRejectedV1, (event) => this.settle(event.data.authEventId, { kind: 'rejected', event }));
    // A login provisioning gave up on (dead-lettered) fails now instead of waiting out its time,
    // and its trace says why (one auth instance writes it: queue group).
    await this.bus.onDeadLetter(UserAuthenticatedV1.subject, CONSUMERS.provisioningLogins, (dl) => {
      const id = (dl.event as { id?: string } | undefined)?.id;
      if (id) this.settle(id, { kind: 'failed', reason: `provisioning gave up after ${dl.deliveries} tries: ${dl.error}` });
    });
    await this.bus.onDeadLetter(
      UserAuthenticatedV1.subject,
      CONSUMERS.provisioningLogins,
      (dl) => {
        const traceId = (dl.event as { data?: { traceId?: string } } | undefined)?.data?.traceId;
        // Steps are appended rows: this one never clobbers what the waiting login writes.
        if (traceId) void this.traces.step(traceId, 'provisioning.dead-lettered', `after ${dl.deliveries} tries: ${dl.error}`).catch(() => undefined);
      },
      'auth-dead-letters',
    );
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
