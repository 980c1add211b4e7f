import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Events } from 'nats';
import { DirectoryEventsV1, DirectoryRpc } from '@bridgekeeper/contracts';
import { EventBus, NatsConnectionService, RpcClient } from '@bridgekeeper/messaging';
import { AdminPrincipal, parseAdminToken } from './admin-token';
import { TokenVerifier } from './token-verifier';

/** How long a valid answer is kept: only the fallback for a revocation event this instance missed. */
const CACHE_MS = 30_000;
/** Revoked token ids remembered (a revocation is final), so an answer already on its way is not cached. */
const REVOKED_MAX = 10_000;

/**
 * For auth and provisioning: the directory owns the tokens, so ask it over NATS. A valid answer is
 * cached for 30 s, a refusal is not. When the directory revokes a token it publishes
 * `directory.token.revoked`; every instance (a plain subscription, not a queue group) drops that
 * token at once, so the 30 s only bound a revocation whose event this instance missed (NATS away);
 * after a reconnection the whole cache goes, as events may have been missed meanwhile.
 */
@Injectable()
export class RemoteTokenVerifier extends TokenVerifier implements OnApplicationBootstrap {
  private readonly logger = new Logger(RemoteTokenVerifier.name);
  private readonly rpc: RpcClient;
  private readonly cache = new Map<string, { principal: AdminPrincipal; until: number }>();
  private readonly revoked = new Set<string>();

  constructor(
    private readonly bus: EventBus,
    private readonly nats: NatsConnectionService,
  ) {
    super();
    this.rpc = new RpcClient(nats, 3000);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.subscribe(DirectoryEventsV1.tokenRevoked, (event) => this.forget(event.data.targetId));
    void this.clearOnReconnect().catch((err) => this.logger.warn(`not watching the NATS connection: ${(err as Error).message}`));
  }

  async verify(token: string): Promise<AdminPrincipal | null> {
    const parsed = parseAdminToken(token);
    if (!parsed || this.revoked.has(parsed.id)) return null;
    const hit = this.cache.get(token);
    if (hit && hit.until > Date.now()) return hit.principal;
    const reply = await this.rpc.call(DirectoryRpc.verifyToken, { token });
    // Revoked while the answer was on its way: refused, and not cached.
    if (!reply.valid || this.revoked.has(reply.tokenId)) {
      this.cache.delete(token);
      return null;
    }
    const principal = { tokenId: reply.tokenId, name: reply.name, role: reply.role };
    if (this.cache.size > 1000) this.cache.clear();
    this.cache.set(token, { principal, until: Date.now() + CACHE_MS });
    return principal;
  }

  /** A revoked token: refused from now on by this instance, whatever its cache held. */
  private forget(tokenId: string): void {
    if (this.revoked.size >= REVOKED_MAX) this.revoked.delete(this.revoked.values().next().value as string);
    this.revoked.add(tokenId);
    for (const [token, entry] of this.cache) if (entry.principal.tokenId === tokenId) this.cache.delete(token);
  }

  private async clearOnReconnect(): Promise<void> {
    for await (const status of (await this.nats.nc()).status()) {
      if (status.type === Events.Reconnect) {
        this.cache.clear();
        this.logger.warn('reconnected to NATS: admin token answers are asked for afresh (revocations may have been missed meanwhile)');
      }
    }
  }
}
