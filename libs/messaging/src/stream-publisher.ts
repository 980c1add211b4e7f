import { headers, Msg, NatsConnection } from 'nats';
import { ReplyInbox } from './reply-inbox';

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
  private readonly replies = new ReplyInbox(
    (token, msg) => this.answer(token, msg),
    // Every waiting publish learns why the shared subscription failed.
    (err) => this.fail([...this.waiting.keys()], () => err),
  );

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
    let replies: { token: string; subject: string }[];
    try {
      replies = messages.map(() => this.replies.next(this.connection));
    } catch (err) {
      return Promise.reject(err as Error); // no reply subscription (a closed connection): nothing was sent
    }
    const tokens = replies.map((r) => r.token);
    const acks = messages.map((m, i) => new Promise<StreamAck>((resolve, reject) => this.waiting.set(tokens[i], { subject: m.subject, resolve, reject })));
    const all = Promise.all(acks);
    const timer = setTimeout(
      () => this.fail(tokens, (subject) => new Error(`JetStream did not acknowledge ${subject} within ${this.timeoutMs} ms`)),
      this.timeoutMs,
    );
    const settled = () => clearTimeout(timer);
    all.then(settled, settled);
    try {
      messages.forEach((m, i) => {
        const h = headers();
        h.set('Nats-Msg-Id', m.msgId);
        this.connection.publish(m.subject, m.data, { headers: h, reply: replies[i].subject });
      });
    } catch (err) {
      // Closed or draining connection, bad subject: nothing more will be acknowledged.
      this.fail(tokens, () => err as Error);
    }
    return all;
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
    if (ack.error)
      return waiter.reject(new Error(`could not publish ${waiter.subject}: ${ack.error.description ?? 'refused'} (${ack.error.err_code ?? ack.error.code})`));
    if (typeof ack.stream !== 'string' || typeof ack.seq !== 'number')
      return waiter.reject(new Error(`could not publish ${waiter.subject}: not a JetStream acknowledgement`));
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
