import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { AckPolicy, ConsumerMessages, DeliverPolicy, JsMsg, nanos, Subscription } from 'nats';
import {
  createEvent,
  DeadLetter,
  deadLetterSubject,
  Envelope,
  EventContract,
  EventData,
  EventInput,
  NewEventOptions,
  parseEvent,
} from '@bridgekeeper/contracts';
import { PermanentEventError } from './errors';
import { DEFAULTS, MESSAGING_OPTIONS, MessagingOptions } from './messaging.options';
import { NatsConnectionService } from './nats-connection.service';

export type EventHandler<C extends EventContract> = (event: Envelope<EventData<C>>, msg: { deliveries: number }) => Promise<void>;

export interface DurableConsumerOptions {
  /** Durable consumer name, `<service>__<handler>`. */
  durable: string;
  maxDeliver?: number;
  ackWaitMs?: number;
  concurrency?: number;
}

/**
 * Publishes events to JetStream (de-duplicated by envelope id) and runs durable consumers
 * with bounded redelivery and a dead-letter subject, or plain subscriptions for listeners
 * that only care about events while they are up (auth waiting for a login's outcome).
 */
@Injectable()
export class EventBus implements OnApplicationShutdown {
  private readonly logger = new Logger(EventBus.name);
  private readonly consumers: ConsumerMessages[] = [];
  private readonly subscriptions: Subscription[] = [];
  private readonly loops: Promise<void>[] = [];
  private stopping = false;

  constructor(
    private readonly nats: NatsConnectionService,
    @Inject(MESSAGING_OPTIONS) private readonly options: MessagingOptions,
  ) {}

  async publish<C extends EventContract>(contract: C, data: EventInput<C>, options?: NewEventOptions): Promise<Envelope<EventData<C>>> {
    const event = createEvent(contract, this.options.service, data, options);
    await this.nats.publish([{ subject: contract.subject, data: JSON.stringify(event), msgId: event.id }]);
    return event;
  }

  /**
   * Dead letters of one consumer and subject, as they happen. With a queue group, one instance
   * of the group receives each (for work done once); without, every instance does.
   */
  async onDeadLetter(subject: string, consumer: string, handler: (dl: DeadLetter) => void, queue?: string): Promise<void> {
    const nc = await this.nats.nc();
    const sub = nc.subscribe(deadLetterSubject(subject, consumer), {
      queue,
      callback: (err, msg) => {
        if (err) return;
        const dl = safeJson(msg.data) as DeadLetter | undefined;
        if (dl && typeof dl.error === 'string') handler(dl);
      },
    });
    this.subscriptions.push(sub);
  }

  /** Non-durable: every instance receives every event while it is connected. */
  async subscribe<C extends EventContract>(contract: C, handler: (event: Envelope<EventData<C>>) => void): Promise<void> {
    const nc = await this.nats.nc();
    const sub = nc.subscribe(contract.subject, {
      callback: (err, msg) => {
        if (err) return this.logger.warn(`subscription to ${contract.subject} failed: ${err.message}`);
        const parsed = parseEvent(contract, safeJson(msg.data));
        if (!parsed.success) return this.logger.warn(`ignored an invalid ${contract.subject} event`);
        handler(parsed.data as Envelope<EventData<C>>);
      },
    });
    this.subscriptions.push(sub);
  }

  /**
   * Durable JetStream consumer: each event is handled by one instance (they share the durable
   * name), acknowledged after the handler resolves, redelivered with back-off when it throws,
   * and moved to `deadletter.<durable>.<subject>` after `maxDeliver` tries, or at once when it
   * is invalid or the handler throws PermanentEventError. It never blocks the events behind it.
   */
  async consume<C extends EventContract>(contract: C, options: DurableConsumerOptions, handler: EventHandler<C>): Promise<void> {
    const maxDeliver = options.maxDeliver ?? this.options.maxDeliver ?? DEFAULTS.maxDeliver;
    const ackWaitMs = options.ackWaitMs ?? this.options.ackWaitMs ?? DEFAULTS.ackWaitMs;
    const concurrency = options.concurrency ?? this.options.concurrency ?? DEFAULTS.concurrency;
    const jsm = await this.nats.manager();
    const config = {
      durable_name: options.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: contract.subject,
      max_deliver: maxDeliver,
      ack_wait: nanos(ackWaitMs),
      max_ack_pending: Math.max(concurrency * 4, 64),
    };
    try {
      await jsm.consumers.info(contract.stream, options.durable);
      await jsm.consumers.update(contract.stream, options.durable, config);
    } catch (err) {
      if (!/consumer not found/i.test(String((err as Error).message))) throw err;
      await jsm.consumers.add(contract.stream, config);
    }
    const js = await this.nats.jetstream();
    const consumer = await js.consumers.get(contract.stream, options.durable);
    const messages = await consumer.consume({ max_messages: concurrency * 2 });
    this.consumers.push(messages);
    this.loops.push(this.run(contract, options.durable, maxDeliver, concurrency, messages, handler));
    this.logger.log(`consuming ${contract.subject} as ${options.durable}`);
  }

  private async run<C extends EventContract>(
    contract: C,
    durable: string,
    maxDeliver: number,
    concurrency: number,
    messages: ConsumerMessages,
    handler: EventHandler<C>,
  ): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    for await (const msg of messages) {
      const task = this.handleOne(contract, durable, maxDeliver, msg, handler).finally(() => inFlight.delete(task));
      inFlight.add(task);
      if (inFlight.size >= concurrency) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  }

  private async handleOne<C extends EventContract>(contract: C, durable: string, maxDeliver: number, msg: JsMsg, handler: EventHandler<C>): Promise<void> {
    const deliveries = msg.info.redeliveryCount;
    const raw = safeJson(msg.data);
    const parsed = parseEvent(contract, raw);
    if (!parsed.success) {
      await this.deadLetter(
        contract,
        durable,
        msg,
        raw,
        `invalid event: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
        deliveries,
      );
      return;
    }
    try {
      await handler(parsed.data as Envelope<EventData<C>>, { deliveries });
      msg.ack();
    } catch (err) {
      const message = err instanceof Error ? err.message : typeof err === 'object' ? JSON.stringify(err) : String(err);
      if (err instanceof PermanentEventError || deliveries >= maxDeliver) {
        await this.deadLetter(contract, durable, msg, raw, message, deliveries);
      } else {
        const delay = Math.min(30_000, 250 * 2 ** (deliveries - 1));
        this.logger.warn(`${contract.subject} ${parsed.data.id} failed (try ${deliveries}/${maxDeliver}), retry in ${delay} ms: ${message}`);
        if (!this.stopping) msg.nak(delay);
      }
    }
  }

  private async deadLetter<C extends EventContract>(contract: C, durable: string, msg: JsMsg, raw: unknown, error: string, deliveries: number): Promise<void> {
    const id = (raw as { id?: string } | undefined)?.id ?? `seq-${msg.seq}`;
    this.logger.error(`${contract.subject} ${id} moved to the dead letters after ${deliveries} tries: ${error}`);
    try {
      await this.nats.publish([
        {
          subject: deadLetterSubject(contract.subject, durable),
          data: JSON.stringify({ consumer: durable, subject: contract.subject, deliveries, error, failedAt: new Date().toISOString(), event: raw }),
          msgId: `dead-letter:${durable}:${id}`,
        },
      ]);
      msg.term();
    } catch (err) {
      this.logger.error(`could not dead-letter ${id}: ${(err as Error).message}; it will be redelivered`);
      msg.nak(5000);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    for (const sub of this.subscriptions) sub.unsubscribe();
    for (const c of this.consumers) await c.close();
    await Promise.allSettled(this.loops);
  }
}

function safeJson(data: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(data).toString('utf8'));
  } catch {
    return undefined;
  }
}
