import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { InjectRepository } from '@nestjs/typeorm';
import { In, IsNull, LessThan, Repository } from 'typeorm';
import { NatsConnectionService } from '@bridgekeeper/messaging';
import { DIRECTORY_CONFIG, DirectoryConfig } from '../config/directory.config';
import { OutboxEventEntity } from './outbox-event.entity';

/**
 * Publishes outbox rows to JetStream (the row id is the Nats-Msg-Id, so a row published twice
 * by two instances is stored once) and marks them published. Runs after each change and on an
 * interval, so events written while NATS was away go out when it returns. Published rows are
 * deleted after the retention (`DIRECTORY_OUTBOX_RETENTION_HOURS`): the events live on in
 * JetStream, the changes in the audit log.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap {
  private readonly logger = new Logger(OutboxRelay.name);
  private running?: Promise<void>;
  private again = false;

  constructor(
    @InjectRepository(OutboxEventEntity) private readonly outbox: Repository<OutboxEventEntity>,
    private readonly nats: NatsConnectionService,
    @Inject(DIRECTORY_CONFIG) private readonly config: DirectoryConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.kick();
  }

  /** Ask for a flush soon; concurrent asks coalesce. */
  kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.flush()
      .catch((err) => this.logger.warn(`publishing directory events failed, will retry: ${(err as Error).message}`))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  @Interval(5000)
  tick(): void {
    this.kick();
  }

  @Interval(600_000)
  pruneTick(): void {
    void this.prune().catch((err) => this.logger.warn(`pruning published directory events failed, will retry: ${(err as Error).message}`));
  }

  /** Deletes events published before the retention, 10,000 rows a statement; how many went. */
  async prune(now = new Date()): Promise<number> {
    const cutoff = new Date(now.getTime() - this.config.outbox.retentionMs);
    let deleted = 0;
    for (;;) {
      const rows = await this.outbox.find({ select: { id: true }, where: { publishedAt: LessThan(cutoff) }, take: 10_000 });
      if (rows.length === 0) return deleted;
      await this.outbox.delete({ id: In(rows.map((r) => r.id)) });
      deleted += rows.length;
      if (rows.length < 10_000) return deleted;
    }
  }

  /** Resolves once everything written so far is published (tests, shutdown). */
  async drain(): Promise<void> {
    while (this.running) await this.running;
    await this.flush();
  }

  private async flush(): Promise<void> {
    for (;;) {
      const rows = await this.outbox.find({ where: { publishedAt: IsNull() }, order: { createdAt: 'ASC' }, take: 500 });
      if (rows.length === 0) return;
      const js = await this.nats.jetstream();
      await Promise.all(rows.map((r) => js.publish(r.subject, r.payload, { msgID: r.id })));
      await this.outbox.update({ id: In(rows.map((r) => r.id)) }, { publishedAt: new Date() });
    }
  }
}
