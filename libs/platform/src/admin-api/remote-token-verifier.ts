import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { ClientNats } from '@nestjs/microservices';
import { firstValueFrom, timeout } from 'rxjs';
import { DirectoryRpc } from '@bridgekeeper/contracts';
import { natsRequestClient } from '@bridgekeeper/messaging';
import { AdminPrincipal, parseAdminToken } from './admin-token';
import { TokenVerifier } from './token-verifier';

export const ADMIN_TOKEN_NATS_URL = Symbol('ADMIN_TOKEN_NATS_URL');

/**
 * For auth and provisioning: the directory owns the tokens, so ask it over NATS. A valid
 * answer is cached for 30 s (a revocation takes effect within that), a refusal is not.
 */
@Injectable()
export class RemoteTokenVerifier extends TokenVerifier implements OnApplicationShutdown {
  private readonly client: ClientNats;
  private readonly cache = new Map<string, { principal: AdminPrincipal; until: number }>();

  constructor(@Inject(ADMIN_TOKEN_NATS_URL) natsUrl: string) {
    super();
    this.client = natsRequestClient({ servers: natsUrl.split(','), name: 'admin-token-verifier' });
  }

  async verify(token: string): Promise<AdminPrincipal | null> {
    if (!parseAdminToken(token)) return null;
    const hit = this.cache.get(token);
    if (hit && hit.until > Date.now()) return hit.principal;
    const rpc = DirectoryRpc.verifyToken;
    const reply = rpc.reply.parse(await firstValueFrom(this.client.send(rpc.subject, rpc.request.parse({ token })).pipe(timeout(3000))));
    if (!reply.valid) {
      this.cache.delete(token);
      return null;
    }
    const principal = { tokenId: reply.tokenId, name: reply.name, role: reply.role };
    if (this.cache.size > 1000) this.cache.clear();
    this.cache.set(token, { principal, until: Date.now() + 30_000 });
    return principal;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }
}
