import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DirectoryEventsV1 } from '@bridgekeeper/contracts';
import { EventBus } from '@bridgekeeper/messaging';
import { SessionService } from './session.service';

/**
 * Offboarding takes effect at once: when the directory disables or deletes a user (an admin, User
 * Sync, any writer), every session of theirs ends, on every auth instance (sessions live in the
 * database every instance reads), and `/session` and `/auth/verify` refuse them within the
 * event's delivery. Durable consumers: an auth that was down catches up; events are handled once
 * per event across instances, idempotently.
 */
@Injectable()
export class OffboardingEvents implements OnApplicationBootstrap {
  private readonly logger = new Logger(OffboardingEvents.name);

  constructor(
    private readonly bus: EventBus,
    private readonly sessions: SessionService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    for (const [contract, durable] of [
      [DirectoryEventsV1.userDisabled, 'auth__user-disabled'],
      [DirectoryEventsV1.userDeleted, 'auth__user-deleted'],
    ] as const) {
      await this.bus.consume(contract, { durable }, async (event) => {
        const ended = await this.sessions.revokeUser(event.data.targetId, new Date(event.occurredAt));
        if (ended) this.logger.log(`${contract.subject} ${event.data.targetId}: ${ended} session(s) ended`);
      });
    }
    await this.bus.consume(DirectoryEventsV1.userEnabled, { durable: 'auth__user-enabled' }, async (event) => {
      await this.sessions.restoreUser(event.data.targetId, new Date(event.occurredAt));
    });
  }
}
