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

  /** How auth keys an IdP's SAML logins (for the simulator): auth's, on the same NATS client. */
  idpSubjectPolicy(idp: string) {
    return this.call(AuthRpc.idpSubjectPolicy, { idp });
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
    const payload = readable(rpc.subject, 'request', rpc.request.safeParse(request));
    const reply = await firstValueFrom(this.client.send(rpc.subject, payload).pipe(timeout(timeoutMs)));
    return readable(rpc.subject, 'reply', rpc.reply.safeParse(reply));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }
}

/**
 * The parsed value, or an error a run's reason and a log line can show: where and what, one line
 * per problem (at most five), instead of zod's JSON dump of every issue with the values in it.
 */
export function readable<T>(subject: string, what: 'request' | 'reply', result: z.ZodSafeParseResult<T>): T {
  if (result.success) return result.data;
  const issues = result.error.issues;
  const lines = issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  if (issues.length > 5) lines.push(`and ${issues.length - 5} more`);
  throw new Error(`invalid ${subject} ${what}: ${lines.join('; ')}`);
}
