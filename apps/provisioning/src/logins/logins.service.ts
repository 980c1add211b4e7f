import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Histogram, Registry } from 'prom-client';
import { Repository } from 'typeorm';
import { derivedEventId, Envelope, LOCAL_SOURCE, UserAuthenticatedV1, UserProvisionedV1, UserRejectedV1 } from '@bridgekeeper/contracts';
import { EventBus } from '@bridgekeeper/messaging';
import { METRICS_REGISTRY } from '@bridgekeeper/platform';
import { IdpSettingsService } from '../settings/idp-settings.service';
import { JitService } from '../jit/jit.service';
import { ManualService } from '../manual/manual.service';
import { SyncLoginService } from '../sync/sync-login.service';
import { AuthenticatedData, LoginOutcome } from './login-outcome';
import { ProcessedEventEntity } from './processed-event.entity';

/**
 * Answers every user.authenticated with user.provisioned or user.rejected, by the IdP's
 * provisioning model. The answer's id derives from the login's id, so a redelivered login
 * republishes the same id (JetStream drops it); a login already handled is not applied twice.
 */
@Injectable()
export class LoginsService {
  private readonly logger = new Logger(LoginsService.name);
  private readonly waited: Histogram<'model'>;
  private readonly handled: Histogram<'model' | 'outcome'>;

  constructor(
    private readonly jit: JitService,
    private readonly manual: ManualService,
    private readonly syncLogin: SyncLoginService,
    private readonly bus: EventBus,
    @InjectRepository(ProcessedEventEntity) private readonly processed: Repository<ProcessedEventEntity>,
    private readonly settings: IdpSettingsService,
    @Inject(METRICS_REGISTRY) registry: Registry,
  ) {
    const buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
    this.waited = new Histogram({
      name: 'bridgekeeper_login_event_wait_seconds',
      help: "From a login's user.authenticated (its occurredAt, auth's clock) to provisioning starting on it: delivery and any backlog",
      labelNames: ['model'],
      buckets,
      registers: [registry],
    });
    this.handled = new Histogram({
      name: 'bridgekeeper_login_provisioning_seconds',
      help: 'Provisioning of one login, from starting on its event to its outcome decided, before the answer is published (outcome: provisioned, rejected, duplicate)',
      labelNames: ['model', 'outcome'],
      buckets,
      registers: [registry],
    });
  }

  async handleAuthenticated(event: Envelope<AuthenticatedData>): Promise<'provisioned' | 'rejected' | 'duplicate'> {
    const started = performance.now();
    const waited = Math.max(0, Date.now() - Date.parse(event.occurredAt)) / 1000;
    const { data } = event;
    const settings = await this.settings.forLogin(data.idp);
    const model = settings.model;
    this.waited.observe({ model }, waited);
    const done = (outcome: 'provisioned' | 'rejected' | 'duplicate') => {
      this.handled.observe({ model, outcome }, (performance.now() - started) / 1000);
      return outcome;
    };
    // `local` names the directory's own accounts and groups: no IdP may log in as that source.
    const reserved = data.idp === LOCAL_SOURCE;
    if (await this.processed.existsBy({ eventId: event.id })) return done('duplicate');
    // One command to the directory, which answers a login that changes nothing (most) with a read.
    const outcome: LoginOutcome = reserved
      ? { kind: 'rejected', code: 'account_not_owned', reason: `the IdP id ${LOCAL_SOURCE} is reserved for the directory's own accounts; rename the IdP` }
      : model === 'manual'
        ? await this.manual.resolve(data, settings.mapping, settings, event.occurredAt)
        : model === 'sync'
          ? await this.syncLogin.resolve(data, settings.mapping, settings, event.occurredAt)
          : await this.jit.provision(data, settings, event.occurredAt);
    done(outcome.kind);
    const id = derivedEventId('user.authenticated/outcome', event.id);
    const common = { authEventId: event.id, traceId: data.traceId, idp: data.idp };
    if (outcome.kind === 'provisioned') {
      const notices = outcome.notices?.length ? { notices: outcome.notices } : {};
      await this.bus.publish(
        UserProvisionedV1,
        { ...common, user: outcome.user, groups: outcome.groups, created: outcome.created, changed: outcome.changed, ...notices },
        { id },
      );
      this.logger.log(`${model}: ${outcome.created ? 'created' : outcome.changed ? 'updated' : 'confirmed'} ${outcome.user.username} from ${data.idp}`);
    } else {
      await this.bus.publish(UserRejectedV1, { ...common, code: outcome.code, reason: outcome.reason }, { id });
      this.logger.log(`${model}: refused a login from ${data.idp}: ${outcome.code}`);
    }
    await this.processed.upsert({ eventId: event.id, subject: UserAuthenticatedV1.subject, outcome: outcome.kind, processedAt: new Date() }, ['eventId']);
    return outcome.kind;
  }
}
