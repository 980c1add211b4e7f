import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { derivedEventId, Envelope, EventData, UserAuthenticatedV1, UserProvisionedV1, UserRejectedV1 } from '@bridgekeeper/contracts';
import { EventBus } from '@bridgekeeper/messaging';
import { KEYCLOAK_DEFAULT_MAPPING, mapIdentity } from '@bridgekeeper/provisioning-model';
import { DirectoryClient } from '../directory-client/directory.client';
import { ProcessedEventEntity } from './processed-event.entity';

type Authenticated = Envelope<EventData<typeof UserAuthenticatedV1>>;

/**
 * Just-in-Time provisioning: a login creates the user on first sight and updates profile and
 * managed groups every time. Answers every user.authenticated with user.provisioned or
 * user.rejected, whose ids derive from the login's id (a redelivery republishes the same id).
 */
@Injectable()
export class JitService {
  private readonly logger = new Logger(JitService.name);

  constructor(
    private readonly directory: DirectoryClient,
    private readonly bus: EventBus,
    @InjectRepository(ProcessedEventEntity) private readonly processed: Repository<ProcessedEventEntity>,
  ) {}

  async handleAuthenticated(event: Authenticated): Promise<'provisioned' | 'rejected' | 'duplicate'> {
    if (await this.processed.existsBy({ eventId: event.id })) return 'duplicate';
    const { data } = event;
    const outcomeId = derivedEventId('user.authenticated/outcome', event.id);
    const reject = async (code: EventData<typeof UserRejectedV1>['code'], reason: string) => {
      await this.bus.publish(UserRejectedV1, { authEventId: event.id, traceId: data.traceId, idp: data.idp, code, reason }, { id: outcomeId });
      return 'rejected' as const;
    };

    let outcome: 'provisioned' | 'rejected';
    const mapped = mapIdentity(data.subject, data.attributes, KEYCLOAK_DEFAULT_MAPPING);
    if (!mapped.ok) {
      outcome = await reject(mapped.code, mapped.reason);
    } else {
      const reply = await this.directory.provisionUser({
        source: data.idp,
        externalId: data.subject,
        username: mapped.identity.username,
        email: mapped.identity.email,
        displayName: mapped.identity.displayName,
        groups: mapped.identity.groups,
        properties: mapped.identity.properties,
        actor: `login:${data.traceId}`,
      });
      if (reply.status === 'provisioned') {
        await this.bus.publish(
          UserProvisionedV1,
          { authEventId: event.id, traceId: data.traceId, idp: data.idp, user: reply.user, groups: reply.groups, created: reply.created, changed: reply.changed },
          { id: outcomeId },
        );
        outcome = 'provisioned';
        this.logger.log(`${reply.created ? 'created' : reply.changed ? 'updated' : 'confirmed'} ${reply.user.username} from ${data.idp}`);
      } else if (reply.status === 'disabled') {
        outcome = await reject('user_disabled', `the account ${reply.user.username} is disabled in the directory`);
      } else {
        outcome = await reject('invalid_identity', reply.message);
      }
    }
    await this.processed.upsert({ eventId: event.id, subject: UserAuthenticatedV1.subject, outcome, processedAt: new Date() }, ['eventId']);
    return outcome;
  }
}
