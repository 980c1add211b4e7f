import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { InjectRepository } from '@nestjs/typeorm';
import { In, IsNull, LessThan, Repository } from 'typeorm';
import { NatsConnectionService } from '@bridgekeeper/messaging';
import { DIRECTORY_CONFIG, DirectoryConfig } from '../config/directory.config';
import { OutboxEventEntity } from './outbox-event.entity';

/** Committed rows held in memory for publishing at most; past this the relay reads them back. */
const QUEUE_MAX = 20_000;
const PER_FLUSH = 500;
/** How long an id the table gave is remembered, so the same row queued by `committed` is not published again. */
const SEEN_MS = 60_000;

/**
 * Publishes outbox rows to JetStream (the row id is the Nats-Msg-Id, so a row published twice
 * by two instances is stored once) and marks them published. Rows this instance has just
 * committed are published from memory, in commit order, without reading them back; the table is
 * read for the rest — at start, after a failure (until it is caught up, so that older rows still
 * go first), past `QUEUE_MAX` queued rows, and on an interval, so events written while NATS was
 * away, or by an instance that stopped, go out. A row the table gives that is also queued (read
 * back between its commit and `committed`) is published once: plain NATS subscribers, unlike
 * JetStream, would see it twice. Published rows are deleted after the retention
 * (`DIRECTORY_OUTBOX_RETENTION_HOURS`): the events live on in JetStream, the changes in the
 * audit log.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap {
  private readonly logger = new Logger(OutboxRelay.name);
  private running?: Promise<void>;
  private again = false;
  /** Committed rows not yet published, oldest first. */
  private queued: OutboxEventEntity[] = [];
  /** The table may hold unpublished rows older than what would be queued: read it until it is empty. */
  private behind = true;
  /** The interval asks for a read of the table (rows of other instances, or of a failure not seen here). */
  private tableDue = true;
  /** Ids the table gave while this instance queues its own, with when: such a row is not published again from the queue. */
  private readonly fromTable = new Map<string, number>();

  constructor(
    @InjectRepository(OutboxEventEntity) private readonly outbox: Repository<OutboxEventEntity>,
    private readonly nats: NatsConnectionService,
    @Inject(DIRECTORY_CONFIG) private readonly config: DirectoryConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.kick();
  }

  /** Rows this instance has just committed: published from memory (soon, in commit order). */
  committed(rows: OutboxEventEntity[]): void {
    if (!this.behind && this.queued.length + rows.length <= QUEUE_MAX) this.queued.push(...rows);
    else this.behind = true;
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
    this.tableDue = true;
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
    this.tableDue = true;
    await this.flush();
  }

  /** The queue first, then the table when behind or due, until it has nothing left; a failure leaves the rest to the table. */
  private async flush(): Promise<void> {
    for (;;) {
      let rows: OutboxEventEntity[];
      if (this.queued.length) {
        rows = this.queued.splice(0, PER_FLUSH);
        if (this.fromTable.size) rows = rows.filter((r) => !this.fromTable.delete(r.id));
      } else if (this.behind || this.tableDue) {
        const catchingUp = this.behind;
        rows = await this.outbox.find({ where: { publishedAt: IsNull() }, order: { createdAt: 'ASC' }, take: PER_FLUSH });
        this.tableDue = rows.length === PER_FLUSH;
        if (rows.length === 0) this.behind = false;
        if (!catchingUp) this.seenInTable(rows);
      } else {
        return;
      }
      if (rows.length === 0) {
        if (this.queued.length) continue;
        return;
      }
      try {
        await this.nats.publish(rows.map((r) => ({ subject: r.subject, data: r.payload, msgId: r.id })));
        await this.outbox.update({ id: In(rows.map((r) => r.id)) }, { publishedAt: new Date() });
      } catch (err) {
        this.queued = [];
        this.behind = true;
        throw err;
      }
    }
  }

  /** Rows the table gave while this instance queues its own (read back before or after `committed`): remembered, so the queue skips them. */
  private seenInTable(rows: OutboxEventEntity[]): void {
    const now = Date.now();
    for (const [id, at] of this.fromTable) if (now - at > SEEN_MS) this.fromTable.delete(id);
    for (const r of rows) this.fromTable.set(r.id, now);
  }
}
