import { Controller } from '@nestjs/common';
import { z } from 'zod';
import { DirectoryRpc } from '@bridgekeeper/contracts';
import { RpcHandler } from '@bridgekeeper/messaging';
import { ProvisionService } from './provision.service';

/** NATS request/reply commands (queue group `directory`): thin, validate then call the service. */
@Controller()
export class UsersRpc {
  constructor(private readonly provisioning: ProvisionService) {}

  @RpcHandler(DirectoryRpc.provisionUser, (message) => ({ status: 'error' as const, code: 'invalid_request' as const, message }))
  provision(request: z.output<typeof DirectoryRpc.provisionUser.request>) {
    return this.provisioning.provision(request);
  }

  @RpcHandler(DirectoryRpc.resolveUser)
  resolve(request: z.output<typeof DirectoryRpc.resolveUser.request>) {
    return this.provisioning.resolve(request);
  }
}
