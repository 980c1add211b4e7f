import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DirectoryRpc, LOCAL_SOURCE } from '@bridgekeeper/contracts';
import { NatsConnectionService, RpcClient } from '@bridgekeeper/messaging';
import { writeAudit } from '@bridgekeeper/data';
import { verifyPassword } from '@bridgekeeper/platform';
import { AUTH_CONFIG, AuthConfig } from '../config/auth.config';
import { LoginError } from '../login/login-error';
import { SessionService } from '../sessions/session.service';

const WINDOW_MS = 15 * 60_000;
const MAX_ATTEMPTS = 5;

/**
 * Break-glass: when the IdP is down, one configured local directory user may sign in with a
 * password (scrypt hash in the configuration). Off unless configured; every attempt is audited;
 * at most five attempts per client address per 15 minutes. The directory's account must be local
 * and protected (no IdP or connector can have claimed or changed it): anything else is refused.
 */
@Injectable()
export class BreakGlassService {
  private readonly logger = new Logger(BreakGlassService.name);
  private readonly attempts = new Map<string, number[]>();
  private readonly directory: RpcClient;

  constructor(
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    @InjectDataSource() private readonly db: DataSource,
    private readonly sessions: SessionService,
    nats: NatsConnectionService,
  ) {
    this.directory = new RpcClient(nats, 5000);
  }

  get enabled(): boolean {
    return !!this.config.breakGlass;
  }

  async signIn(username: unknown, password: unknown, client: string): Promise<string> {
    const bg = this.config.breakGlass;
    if (!bg) throw new LoginError(404, 'break_glass_off');
    const now = Date.now();
    const recent = (this.attempts.get(client) ?? []).filter((t) => now - t < WINDOW_MS);
    if (recent.length >= MAX_ATTEMPTS) {
      await this.audit(client, 'break-glass.throttled', String(username).slice(0, 255));
      throw new LoginError(429, 'break_glass_throttled');
    }
    this.attempts.set(client, [...recent, now]);
    const name = typeof username === 'string' ? username.trim() : '';
    const ok = typeof password === 'string' && name.toLowerCase() === bg.username.toLowerCase() && verifyPassword(password, bg.passwordHash);
    if (!ok) {
      await this.audit(client, 'break-glass.refused', name.slice(0, 255));
      throw new LoginError(401, 'break_glass_refused', { detail: 'wrong username or password' });
    }
    const reply = await this.directory.call(DirectoryRpc.resolveUser, {
      source: LOCAL_SOURCE,
      externalId: `break-glass:${name}`,
      username: name,
      subjectKeysUsers: false,
    });
    // The reason goes to the audit log; the visitor sees the same refusal whatever it is.
    const refusal =
      reply.status !== 'found'
        ? reply.status === 'refused'
          ? reply.reason
          : reply.status
        : reply.source !== LOCAL_SOURCE || !reply.protected
          ? `the directory's ${name} is not a protected local account (source ${reply.source ?? 'unknown'}, protected ${reply.protected}); create it with protected: true`
          : undefined;
    if (refusal || reply.status !== 'found') {
      await this.audit(client, 'break-glass.refused', name, refusal);
      throw new LoginError(403, 'break_glass_refused', { detail: refusal ?? reply.status });
    }
    this.attempts.delete(client);
    await this.audit(client, 'break-glass.signed-in', name);
    this.logger.warn(`break-glass sign-in of ${name} from ${client}`);
    return this.sessions.issue(reply.user, reply.groups, 'break-glass', { nameId: name });
  }

  private async audit(client: string, action: string, username: string, detail?: string): Promise<void> {
    await writeAudit(this.db.manager, [
      { actor: `break-glass:${client}`, action, targetType: 'user', targetId: username || '(none)', after: detail ? { detail } : null },
    ]);
  }
}
