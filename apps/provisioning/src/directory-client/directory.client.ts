import { Inject, Injectable } from '@nestjs/common';
import { z } from 'zod';
import { AuthRpc, DirectoryRpc, ProvisionUserReply, ProvisionUserRequest } from '@bridgekeeper/contracts';
import { NatsConnectionService, RpcClient, RpcContract } from '@bridgekeeper/messaging';
import { PROVISIONING_CONFIG, ProvisioningConfig } from '../config/provisioning.config';

/** The directory's NATS commands, validated on the way out and on the way back. */
@Injectable()
export class DirectoryClient {
  private readonly rpc: RpcClient;

  constructor(nats: NatsConnectionService, @Inject(PROVISIONING_CONFIG) config: ProvisioningConfig) {
    this.rpc = new RpcClient(nats, config.directory.timeoutMs);
  }

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

  /** How auth keys an IdP's SAML logins (for the simulator): auth's, on the same NATS client. */
  idpSubjectPolicy(idp: string) {
    return this.call(AuthRpc.idpSubjectPolicy, { idp });
  }

  syncState(request: z.input<typeof DirectoryRpc.syncState.request>) {
    return this.call(DirectoryRpc.syncState, request);
  }

  syncGroups(request: z.input<typeof DirectoryRpc.syncGroups.request>) {
    return this.call(DirectoryRpc.syncGroups, request);
  }

  namesHeld(request: z.input<typeof DirectoryRpc.namesHeld.request>) {
    return this.call(DirectoryRpc.namesHeld, request);
  }

  syncApply(request: z.input<typeof DirectoryRpc.syncApply.request>) {
    return this.call(DirectoryRpc.syncApply, request, 60_000);
  }

  private call<Req extends z.ZodType, Rep extends z.ZodType>(rpc: RpcContract<Req, Rep>, request: z.input<Req>, timeoutMs?: number): Promise<z.output<Rep>> {
    return this.rpc.call(rpc, request, timeoutMs);
  }
}
