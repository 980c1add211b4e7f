import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { InjectRepository } from '@nestjs/typeorm';
import { In, IsNull, Repository } from 'typeorm';
import { NatsConnectionService } from '@bridgekeeper/messaging';
import { OutboxEventEntity } from './outbox-event.entity';

/**
 * Publishes outbox rows to JetStream (the row id is the Nats-Msg-Id, so a row published twice
 * by two instances is stored once) and marks them published. Runs after each change and on an
 * interval, so events written while NATS was away go out when it returns.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap {
  private readonly logger = new Logger(OutboxRelay.name);
  private running?: Promise<void>;
  private again = false;

  constructor(
    @InjectRepository(OutboxEventEntity) private readonly outbox: Repository<OutboxEventEntity>,
    private readonly nats: NatsConnectionService,
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
