import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { DirectoryRpc } from '@bridgekeeper/contracts';
import { ProvisionService } from './provision.service';

/** NATS request/reply commands (queue group `directory`): thin, validate then call the service. */
@Controller()
export class UsersRpc {
  constructor(private readonly provisioning: ProvisionService) {}

  @MessagePattern(DirectoryRpc.provisionUser.subject)
  async provision(@Payload() payload: unknown) {
    const parsed = DirectoryRpc.provisionUser.request.safeParse(payload);
    if (!parsed.success) {
      return { status: 'error', code: 'invalid_request', message: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
    }
    return this.provisioning.provision(parsed.data);
  }

  @MessagePattern(DirectoryRpc.resolveUser.subject)
  async resolve(@Payload() payload: unknown) {
    return this.provisioning.resolve(DirectoryRpc.resolveUser.request.parse(payload));
  }
}
