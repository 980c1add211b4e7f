import { ConflictException, Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { DIRECTORY_CONFIG, DirectoryConfig } from '../config/directory.config';
import { UserEntity } from '../users/user.entity';

export class SeatLimitError extends ConflictException {
  constructor(used: number, limit: number) {
    super(`the seat limit is reached: ${used} of ${limit} seats are used by active users; disable a user or raise DIRECTORY_SEAT_LIMIT`);
  }
}

export interface SeatReport {
  used: number;
  limit: number | null;
  available: number | null;
  policy: 'refuse' | 'warn';
  over: boolean;
}

/** Licence seats: every active user takes one. */
@Injectable()
export class SeatsService {
  private readonly logger = new Logger(SeatsService.name);

  constructor(
    @Inject(DIRECTORY_CONFIG) private readonly config: DirectoryConfig,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  async report(em: EntityManager = this.db.manager): Promise<SeatReport> {
    const used = await em.countBy(UserEntity, { active: true });
    const { limit, policy } = this.config.seats;
    return { used, limit: limit || null, available: limit ? Math.max(0, limit - used) : null, policy, over: !!limit && used > limit };
  }

  /**
   * Inside the transaction that activates `adding` users: refuses (or warns) when they would
   * exceed the limit. On PostgreSQL an advisory lock makes concurrent activations take turns.
   */
  async claim(em: EntityManager, adding: number): Promise<void> {
    const { limit, policy } = this.config.seats;
    if (!limit || adding <= 0) return;
    if (this.db.options.type === 'postgres') await em.query(`SELECT pg_advisory_xact_lock(hashtext('bridgekeeper.directory.seats'))`);
    const used = await em.countBy(UserEntity, { active: true });
    if (used + adding <= limit) return;
    if (policy === 'refuse') throw new SeatLimitError(used, limit);
    this.logger.warn(`seat limit exceeded: ${used + adding} active users for ${limit} seats (DIRECTORY_SEAT_POLICY=warn)`);
  }
}
