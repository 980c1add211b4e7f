import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { firstValueFrom, timeout } from 'rxjs';
import { z } from 'zod';
import { AuthRpc, DirectoryRpc, ProvisionUserReply, ProvisionUserRequest } from '@bridgekeeper/contracts';
import { PROVISIONING_CONFIG, ProvisioningConfig } from '../config/provisioning.config';

export const DIRECTORY_NATS = Symbol('DIRECTORY_NATS');

/** The directory's NATS commands, validated on the way out and on the way back. */
@Injectable()
export class DirectoryClient implements OnApplicationShutdown {
  constructor(
    @Inject(DIRECTORY_NATS) private readonly client: ClientProxy,
    @Inject(PROVISIONING_CONFIG) private readonly config: ProvisioningConfig,
  ) {}

  provisionUser(request: ProvisionUserRequest): Promise<ProvisionUserReply> {
    return this.call(DirectoryRpc.provisionUser, request);
  }

  resolveUser(request: z.input<typeof DirectoryRpc.resolveUser.request>) {
    return this.call(DirectoryRpc.resolveUser, request);
  }

  /** auth's record of a login (for the simulator): not the directory's, but the same NATS client. */
  loginTrace(traceId: string) {
    return this.call(AuthRpc.loginTrace, { traceId });
  }

  /** Whether auth has an IdP (for one provisioning has no idp.* event of): auth's, on the same NATS client. */
  idpExists(idp: string) {
    return this.call(AuthRpc.idpExists, { idp });
  }

  syncState(request: z.input<typeof DirectoryRpc.syncState.request>) {
    return this.call(DirectoryRpc.syncState, request);
  }

  namesHeld(request: z.input<typeof DirectoryRpc.namesHeld.request>) {
    return this.call(DirectoryRpc.namesHeld, request);
  }

  syncApply(request: z.input<typeof DirectoryRpc.syncApply.request>) {
    return this.call(DirectoryRpc.syncApply, request, 60_000);
  }

  private async call<Req extends z.ZodType, Rep extends z.ZodType>(
    rpc: { subject: string; request: Req; reply: Rep },
    request: z.input<Req>,
    timeoutMs = this.config.directory.timeoutMs,
  ): Promise<z.infer<Rep>> {
    const payload = rpc.request.parse(request);
    const reply = await firstValueFrom(this.client.send(rpc.subject, payload).pipe(timeout(timeoutMs)));
    return rpc.reply.parse(reply);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }
}
