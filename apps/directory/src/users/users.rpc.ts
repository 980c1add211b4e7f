import { Controller, Logger } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { DirectoryRpc } from '@bridgekeeper/contracts';
import { ProvisionConflictError, UsersService } from './users.service';

/** NATS request/reply commands (queue group `directory`): thin, validate then call the service. */
@Controller()
export class UsersRpc {
  private readonly logger = new Logger(UsersRpc.name);

  constructor(private readonly users: UsersService) {}

  @MessagePattern(DirectoryRpc.provisionUser.subject)
  async provision(@Payload() payload: unknown) {
    const parsed = DirectoryRpc.provisionUser.request.safeParse(payload);
    if (!parsed.success) {
      return { status: 'error', code: 'invalid_request', message: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
    }
    try {
      return await this.users.provision(parsed.data);
    } catch (err) {
      if (err instanceof ProvisionConflictError) return { status: 'error', code: 'conflict', message: err.message };
      this.logger.error(`provision failed: ${(err as Error).message}`);
      throw err;
    }
  }
}
