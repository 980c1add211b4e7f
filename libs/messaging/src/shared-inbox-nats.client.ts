import { ClientNats, NatsOptions, ReadPacket, WritePacket } from '@nestjs/microservices';
import { Msg, NatsConnection } from 'nats';
import { ReplyInbox } from './reply-inbox';

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
  private readonly replies = new ReplyInbox(
    (token, msg) => void this.pending.get(token)?.(undefined, msg),
    // Every waiting request learns why the shared subscription failed.
    (err, msg) => {
      for (const handler of this.pending.values()) void handler(err, msg);
    },
    this.options?.inboxPrefix,
  );

  protected override publish(partialPacket: ReadPacket, callback: (packet: WritePacket) => unknown): () => void {
    try {
      const connection = this.natsClient as NatsConnection | null;
      if (!connection) throw new Error('Not initialized. Please call the "connect" method first.');
      const reply = this.replies.next(connection);
      const packet = this.assignPacketId(partialPacket);
      const serialized = this.serializer.serialize(packet);
      this.pending.set(reply.token, this.createSubscriptionHandler(packet, callback) as ReplyHandler);
      connection.publish(this.normalizePattern(partialPacket.pattern), serialized.data, { reply: reply.subject, headers: this.mergeHeaders(serialized.headers) });
      return () => this.pending.delete(reply.token);
    } catch (err) {
      callback({ err });
      return () => undefined;
    }
  }

  override async close(): Promise<void> {
    this.replies.reset();
    this.pending.clear();
    await super.close();
  }
}

/** A NATS client for a service's requests to another (Nest's message patterns), sharing one reply inbox. */
export function natsRequestClient(options: Required<NatsOptions>['options']): ClientNats {
  return new SharedInboxNatsClient(options);
}
