import { ClientNats, NatsOptions, ReadPacket, WritePacket } from '@nestjs/microservices';
import { createInbox, Msg, NatsConnection, NatsError, Subscription } from 'nats';

type ReplyHandler = (error: Error | undefined, msg: Msg) => Promise<unknown>;

/**
 * Nest's NATS client with one reply subscription for all its requests. Nest's own subscribes a
 * fresh inbox for every request and drops it after the reply (SUB, PUB, UNSUB: three protocol
 * operations, and two changes to the server's subscription table, per request); the official
 * NATS clients share one wildcard inbox instead, and so does this one. Each request's reply
 * subject is the shared prefix and a token of its own; replies, streamed ones too, go to the
 * request whose token they carry until Nest tears the request down.
 */
export class SharedInboxNatsClient extends ClientNats {
  private readonly pending = new Map<string, ReplyHandler>();
  private inbox: { connection: NatsConnection; prefix: string; subscription: Subscription } | null = null;
  private nextToken = 0;

  protected override publish(partialPacket: ReadPacket, callback: (packet: WritePacket) => unknown): () => void {
    try {
      const { prefix } = this.sharedInbox();
      const packet = this.assignPacketId(partialPacket);
      const serialized = this.serializer.serialize(packet);
      const token = (this.nextToken++).toString(36);
      this.pending.set(token, this.createSubscriptionHandler(packet, callback) as ReplyHandler);
      (this.natsClient as NatsConnection).publish(this.normalizePattern(partialPacket.pattern), serialized.data, { reply: `${prefix}${token}`, headers: this.mergeHeaders(serialized.headers) });
      return () => this.pending.delete(token);
    } catch (err) {
      callback({ err });
      return () => undefined;
    }
  }

  override async close(): Promise<void> {
    this.inbox = null;
    this.pending.clear();
    await super.close();
  }

  /** The one reply subscription, on the current connection (a new one after close and connect). */
  private sharedInbox() {
    const connection = this.natsClient as NatsConnection | null;
    if (!connection) throw new Error('Not initialized. Please call the "connect" method first.');
    if (this.inbox?.connection !== connection) {
      const prefix = `${createInbox(this.options?.inboxPrefix)}.`;
      const subscription = connection.subscribe(`${prefix}*`, {
        callback: (err: NatsError | null, msg: Msg) => {
          if (err) {
            // The subscription itself failed (e.g. a permissions violation) and is closed: every
            // waiting request learns why, and the next request subscribes afresh.
            if (this.inbox?.subscription === subscription) this.inbox = null;
            for (const handler of this.pending.values()) void handler(err, msg);
            return;
          }
          void this.pending.get(msg.subject.slice(prefix.length))?.(undefined, msg);
        },
      });
      this.inbox = { connection, prefix, subscription };
    }
    return this.inbox;
  }
}

/** A NATS client for a service's requests to another (Nest's message patterns), sharing one reply inbox. */
export function natsRequestClient(options: Required<NatsOptions>['options']): ClientNats {
  return new SharedInboxNatsClient(options);
}
