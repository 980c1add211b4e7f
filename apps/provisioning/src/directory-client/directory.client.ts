import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { firstValueFrom, timeout } from 'rxjs';
import { DirectoryRpc, ProvisionUserReply, ProvisionUserRequest } from '@bridgekeeper/contracts';
import { PROVISIONING_CONFIG, ProvisioningConfig } from '../config/provisioning.config';

export const DIRECTORY_NATS = Symbol('DIRECTORY_NATS');

/** The directory's NATS commands, validated on the way out and on the way back. */
@Injectable()
export class DirectoryClient implements OnApplicationShutdown {
  constructor(
    @Inject(DIRECTORY_NATS) private readonly client: ClientProxy,
    @Inject(PROVISIONING_CONFIG) private readonly config: ProvisioningConfig,
  ) {}

  async provisionUser(request: ProvisionUserRequest): Promise<ProvisionUserReply> {
    const rpc = DirectoryRpc.provisionUser;
    const payload = rpc.request.parse(request);
    const reply = await firstValueFrom(this.client.send(rpc.subject, payload).pipe(timeout(this.config.directory.timeoutMs)));
    return rpc.reply.parse(reply);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }
}
