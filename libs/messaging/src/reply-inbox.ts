import { createInbox, Msg, NatsConnection, NatsError, Subscription } from 'nats';

/**
 * One wildcard reply subscription per connection, shared by many requests, as the official NATS
 * clients do: each request's reply subject is the shared prefix and a token of its own, and every
 * reply is handed over with the token it carries. When the subscription itself fails (e.g. a
 * permissions violation) it is closed: the owner learns why, and the next reply subject
 * subscribes afresh. A new connection gets a new subscription.
 */
export class ReplyInbox {
  private current: { connection: NatsConnection; prefix: string; subscription: Subscription } | null = null;
  private nextToken = 0;

  constructor(
    private readonly onReply: (token: string, msg: Msg) => void,
    private readonly onFailure: (err: NatsError, msg: Msg) => void,
    private readonly inboxPrefix?: string,
  ) {}

  /** A reply subject of its own on this connection's shared subscription, and its token. */
  next(connection: NatsConnection): { token: string; subject: string } {
    const { prefix } = this.subscribed(connection);
    const token = (this.nextToken++).toString(36);
    return { token, subject: `${prefix}${token}` };
  }

  /** Forgets the subscription (its connection is closing); the next reply subject subscribes afresh. */
  reset(): void {
    this.current = null;
  }

  private subscribed(connection: NatsConnection) {
    if (this.current?.connection !== connection) {
      const prefix = `${createInbox(this.inboxPrefix)}.`;
      const subscription = connection.subscribe(`${prefix}*`, {
        callback: (err: NatsError | null, msg: Msg) => {
          if (err) {
            if (this.current?.subscription === subscription) this.current = null;
            this.onFailure(err, msg);
            return;
          }
          this.onReply(msg.subject.slice(prefix.length), msg);
        },
      });
      this.current = { connection, prefix, subscription };
    }
    return this.current;
  }
}
