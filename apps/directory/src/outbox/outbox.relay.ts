import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { InjectRepository } from '@nestjs/typeorm';
import { In, IsNull, LessThan, Repository } from 'typeorm';
import { NatsConnectionService } from '@bridgekeeper/messaging';
import { DIRECTORY_CONFIG, DirectoryConfig } from '../config/directory.config';
import { OutboxBatch, outboxBatch, OutboxBatchEntity } from './outbox-batch.entity';

/** Committed events held in memory for publishing at most; past this the relay reads them back. */
const QUEUE_MAX = 20_000;
/** Events published at once (their batches are marked published together). */
const PER_FLUSH = 500;
/** Batches read from the table at once (a sync's holds up to 5,000 events, 2.5 MB). */
const ROWS_PER_READ = 10;
/** How long an id the table gave is remembered, so the same row queued by `committed` is not published again. */
const SEEN_MS = 60_000;

/**
 * Publishes the outbox's batches to JetStream, each event under its own id as the Nats-Msg-Id (so
 * an event published twice, by two instances or after a failure, is stored once), and marks the
 * batches published. Batches this instance has just committed are published from memory, in
 * commit order, without reading them back; the table is
 * read for the rest — at start, after a failure (until it is caught up, so that older rows still
 * go first), past `QUEUE_MAX` queued events, and on an interval, so events written while NATS was
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
  /** Committed batches not yet published, oldest first, and how many events they hold. */
  private queued: OutboxBatch[] = [];
  private queuedEvents = 0;
  /** The table may hold unpublished rows older than what would be queued: read it until it is empty. */
  private behind = true;
  /** The interval asks for a read of the table (rows of other instances, or of a failure not seen here). */
  private tableDue = true;
  /** Ids the table gave while this instance queues its own, with when: such a row is not published again from the queue. */
  private readonly fromTable = new Map<string, number>();

  constructor(
    @InjectRepository(OutboxBatchEntity) private readonly outbox: Repository<OutboxBatchEntity>,
    private readonly nats: NatsConnectionService,
    @Inject(DIRECTORY_CONFIG) private readonly config: DirectoryConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.kick();
  }

  /** Batches this instance has just committed: published from memory (soon, in commit order). */
  committed(batches: OutboxBatch[]): void {
    const events = batches.reduce((n, b) => n + b.messages.length, 0);
    if (!this.behind && this.queuedEvents + events <= QUEUE_MAX) {
      this.queued.push(...batches);
      this.queuedEvents += events;
    } else {
      this.behind = true;
    }
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

  /** Deletes batches published before the retention, 10,000 rows a statement; how many went. */
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
      let batches: OutboxBatch[];
      if (this.queued.length) {
        batches = this.takeQueued();
        if (this.fromTable.size) batches = batches.filter((b) => !this.fromTable.delete(b.id));
      } else if (this.behind || this.tableDue) {
        const catchingUp = this.behind;
        const rows = await this.outbox.find({ where: { publishedAt: IsNull() }, order: { createdAt: 'ASC' }, take: ROWS_PER_READ });
        this.tableDue = rows.length === ROWS_PER_READ;
        if (rows.length === 0) this.behind = false;
        if (!catchingUp) this.seenInTable(rows);
        batches = rows.map(outboxBatch);
      } else {
        return;
      }
      if (batches.length === 0) {
        if (this.queued.length) continue;
        return;
      }
      try {
        const messages = batches.flatMap((b) => b.messages);
        for (let i = 0; i < messages.length; i += PER_FLUSH) await this.nats.publish(messages.slice(i, i + PER_FLUSH));
        await this.outbox.update({ id: In(batches.map((b) => b.id)) }, { publishedAt: new Date() });
      } catch (err) {
        this.queued = [];
        this.queuedEvents = 0;
        this.behind = true;
        throw err;
      }
    }
  }

  /** Queued batches, oldest first, up to PER_FLUSH events (at least one batch). */
  private takeQueued(): OutboxBatch[] {
    let events = 0;
    let n = 0;
    while (n < this.queued.length && (n === 0 || events + this.queued[n].messages.length <= PER_FLUSH)) events += this.queued[n++].messages.length;
    this.queuedEvents -= events;
    return this.queued.splice(0, n);
  }

  /** Rows the table gave while this instance queues its own (read back before or after `committed`): remembered, so the queue skips them. */
  private seenInTable(rows: OutboxBatchEntity[]): void {
    const now = Date.now();
    for (const [id, at] of this.fromTable) if (now - at > SEEN_MS) this.fromTable.delete(id);
    for (const r of rows) this.fromTable.set(r.id, now);
  }
}
