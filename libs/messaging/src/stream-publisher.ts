import { createInbox, headers, Msg, NatsConnection, NatsError, Subscription } from 'nats';

export interface StreamMessage {
  subject: string;
  data: string | Uint8Array;
  /** The `Nats-Msg-Id`: JetStream stores a message id once within the stream's duplicate window. */
  msgId: string;
}

export interface StreamAck {
  stream: string;
  seq: number;
  /** The stream already held this message id (a retried publish): stored once. */
  duplicate: boolean;
}

type Waiter = { subject: string; resolve: (ack: StreamAck) => void; reject: (err: Error) => void };

/**
 * JetStream publishes that wait for the stream's acknowledgement, as `js.publish` does, with one
 * reply subscription for all of them and one timer per call. `js.publish` is a NATS request per
 * message — a timer, a promise chain through the request muxer and an error object (its
 * "cancelled" reason, made even when the reply came) each — which was a third of the
 * directory's CPU while it published a large sync's events. Here a message is a publish with a
 * reply subject (the shared inbox and a token of its own) and a map entry, and a call with many
 * messages waits for all their acknowledgements under one deadline.
 */
export class StreamPublisher {
  private readonly waiting = new Map<string, Waiter>();
  private inbox: { prefix: string; subscription: Subscription } | null = null;
  private nextToken = 0;

  constructor(
    private readonly connection: NatsConnection,
    private readonly timeoutMs = 5000,
  ) {}

  /**
   * Publishes every message and resolves with their acknowledgements, in order. Rejects when any
   * is refused (no stream captures the subject, the stream refused it) or not acknowledged within
   * the timeout; the others may still have been stored, which their message ids make safe to retry.
   */
  publish(messages: readonly StreamMessage[]): Promise<StreamAck[]> {
    if (messages.length === 0) return Promise.resolve([]);
    const tokens: string[] = [];
    const acks = messages.map((m) => new Promise<StreamAck>((resolve, reject) => {
      const token = (this.nextToken++).toString(36);
      tokens.push(token);
      this.waiting.set(token, { subject: m.subject, resolve, reject });
    }));
    const all = Promise.all(acks);
    const timer = setTimeout(() => this.fail(tokens, (subject) => new Error(`JetStream did not acknowledge ${subject} within ${this.timeoutMs} ms`)), this.timeoutMs);
    const settled = () => clearTimeout(timer);
    all.then(settled, settled);
    try {
      const { prefix } = this.sharedInbox();
      messages.forEach((m, i) => {
        const h = headers();
        h.set('Nats-Msg-Id', m.msgId);
        this.connection.publish(m.subject, m.data, { headers: h, reply: `${prefix}${tokens[i]}` });
      });
    } catch (err) {
      // Closed or draining connection, bad subject: nothing more will be acknowledged.
      this.fail(tokens, () => err as Error);
    }
    return all;
  }

  /** The one reply subscription (again after it failed). */
  private sharedInbox() {
    if (!this.inbox) {
      const prefix = `${createInbox()}.`;
      const subscription = this.connection.subscribe(`${prefix}*`, {
        callback: (err: NatsError | null, msg: Msg) => {
          if (err) {
            // The subscription is closed (e.g. a permissions violation): every waiting publish
            // learns why, and the next publish subscribes afresh.
            if (this.inbox?.subscription === subscription) this.inbox = null;
            this.fail([...this.waiting.keys()], () => err);
            return;
          }
          this.answer(msg.subject.slice(prefix.length), msg);
        },
      });
      this.inbox = { prefix, subscription };
    }
    return this.inbox;
  }

  private answer(token: string, msg: Msg): void {
    const waiter = this.waiting.get(token);
    if (!waiter) return;
    this.waiting.delete(token);
    if (msg.headers?.hasError) {
      // A status reply: 503 when no stream captures the subject (nobody answers a plain publish).
      const why = msg.headers.code === 503 ? 'no stream captures this subject' : `${msg.headers.code} ${msg.headers.description}`;
      return waiter.reject(new Error(`could not publish ${waiter.subject}: ${why}`));
    }
    let ack: { stream?: string; seq?: number; duplicate?: boolean; error?: { code?: number; err_code?: number; description?: string } };
    try {
      ack = JSON.parse(Buffer.from(msg.data).toString('utf8'));
    } catch {
      return waiter.reject(new Error(`could not publish ${waiter.subject}: the acknowledgement is not JSON`));
    }
    if (ack.error) return waiter.reject(new Error(`could not publish ${waiter.subject}: ${ack.error.description ?? 'refused'} (${ack.error.err_code ?? ack.error.code})`));
    if (typeof ack.stream !== 'string' || typeof ack.seq !== 'number') return waiter.reject(new Error(`could not publish ${waiter.subject}: not a JetStream acknowledgement`));
    waiter.resolve({ stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate === true });
  }

  private fail(tokens: readonly string[], error: (subject: string) => Error): void {
    for (const token of tokens) {
      const waiter = this.waiting.get(token);
      if (!waiter) continue;
      this.waiting.delete(token);
      waiter.reject(error(waiter.subject));
    }
  }
}
