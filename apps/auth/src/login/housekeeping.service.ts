import { Inject, Injectable, Logger } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { AUTH_CONFIG, AuthConfig } from '../config/auth.config';
import { LoginTraceService } from '../login-trace/login-trace.service';
import { SessionService } from '../sessions/session.service';
import { LoginStateStore } from './login-state.store';
import { AssertionReplayStore } from './replay.store';

/** Drops expired login states, remembered assertion (and logout message) ids, expired sessions, and traces past their retention. SAML's request ids: saml/saml-housekeeping.service.ts. */
@Injectable()
export class HousekeepingService {
  private readonly logger = new Logger(HousekeepingService.name);

  constructor(
    private readonly states: LoginStateStore,
    private readonly assertions: AssertionReplayStore,
    private readonly traces: LoginTraceService,
    private readonly sessions: SessionService,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
  ) {}

  @Interval(60_000)
  async purge(): Promise<void> {
    try {
      await Promise.all([
        this.states.purgeExpired(),
        this.assertions.purgeExpired(),
        this.traces.purgeOlderThan(this.config.loginTraceRetentionDays),
        this.sessions.purgeExpired(),
      ]);
    } catch (err) {
      this.logger.warn(`purging expired login state failed: ${(err as Error).message}`);
    }
  }
}
