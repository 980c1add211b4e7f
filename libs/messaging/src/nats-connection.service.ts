import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { connect, JetStreamClient, JetStreamManager, NatsConnection, nanos, RetentionPolicy, StorageType } from 'nats';
import { STREAMS } from '@bridgekeeper/contracts';
import { DEFAULTS, MESSAGING_OPTIONS, MessagingOptions } from './messaging.options';
import { StreamAck, StreamMessage, StreamPublisher } from './stream-publisher';

/** One NATS connection per service, with the JetStream streams ensured at start. */
@Injectable()
export class NatsConnectionService implements OnApplicationShutdown {
  private readonly logger = new Logger(NatsConnectionService.name);
  private connection?: NatsConnection;
  private ready?: Promise<NatsConnection>;
  private publisher?: StreamPublisher;

  constructor(@Inject(MESSAGING_OPTIONS) readonly options: MessagingOptions) {}

  /** Connects on first use (once), and makes sure every stream exists. */
  async nc(): Promise<NatsConnection> {
    this.ready ??= this.open().catch((err) => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  async jetstream(): Promise<JetStreamClient> {
    return (await this.nc()).jetstream();
  }

  /** Publishes to JetStream and waits for the streams to acknowledge every message (see StreamPublisher). */
  async publish(messages: readonly StreamMessage[]): Promise<StreamAck[]> {
    const nc = await this.nc();
    this.publisher ??= new StreamPublisher(nc);
    return this.publisher.publish(messages);
  }

  async manager(): Promise<JetStreamManager> {
    return (await this.nc()).jetstreamManager();
  }

  /** The largest message the server takes (its max_payload), once connected. */
  maxPayload(): number | undefined {
    return this.connection?.info?.max_payload;
  }

  isConnected(): boolean {
    return !!this.connection && !this.connection.isClosed();
  }

  private async open(): Promise<NatsConnection> {
    const nc = await connect({
      servers: this.options.servers.split(','),
      name: this.options.service,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1000,
      // Without this, every request — each JetStream publish is one — captures a stack trace
      // up front, in case it fails: 20 µs a publish, 15 % of the directory's CPU while it
      // publishes a large sync's events. Errors still say what failed.
      noAsyncTraces: true,
    });
    this.connection = nc;
    this.logger.log(`connected to NATS at ${nc.getServer()}`);
    await this.ensureStreams(await nc.jetstreamManager());
    return nc;
  }

  private async ensureStreams(jsm: JetStreamManager): Promise<void> {
    const duplicateWindow = nanos(this.options.duplicateWindowMs ?? DEFAULTS.duplicateWindowMs);
    for (const stream of Object.values(STREAMS)) {
      const config = {
        name: stream.name,
        subjects: [...stream.subjects],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        max_age: nanos(DEFAULTS.maxAgeMs),
        duplicate_window: duplicateWindow,
      };
      try {
        await jsm.streams.info(stream.name);
        await jsm.streams.update(stream.name, config);
      } catch (err) {
        if (!/stream not found/i.test(String((err as Error).message))) throw err;
        await jsm.streams.add(config);
      }
    }
  }

  async onApplicationShutdown(): Promise<void> {
    // A connection still opening (a publish that began as the application closed, as in the CLI)
    // is closed too, once open: left alone, it would keep the process alive.
    await this.ready?.catch(() => undefined);
    if (this.connection && !this.connection.isClosed()) {
      await this.connection.drain().catch(() => this.connection?.close());
    }
  }
}
