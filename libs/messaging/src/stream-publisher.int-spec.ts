import { connect, DiscardPolicy, JetStreamManager, NatsConnection } from 'nats';
import { startNats, TestNats } from '@bridgekeeper/testing';
import { StreamPublisher } from './stream-publisher';

describe('StreamPublisher against a real JetStream', () => {
  let nats: TestNats;
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url });
    jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: 'PUB_TEST', subjects: ['pubtest.>'], duplicate_window: 60_000_000_000 });
    await jsm.streams.add({ name: 'PUB_FULL', subjects: ['pubfull.>'], max_msgs: 1, discard: DiscardPolicy.New });
  });

  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
  });

  it('stores many messages published at once, each acknowledged with its own sequence, over one reply subscription', async () => {
    const publisher = new StreamPublisher(nc);
    const subscribe = jest.spyOn(nc, 'subscribe');
    const messages = Array.from({ length: 1000 }, (_, i) => ({ subject: `pubtest.many.${i % 7}`, data: JSON.stringify({ i }), msgId: `many-${i}` }));
    const acks = await publisher.publish(messages);
    const again = await publisher.publish([{ subject: 'pubtest.many.0', data: '{}', msgId: 'many-after' }]);
    expect(subscribe).toHaveBeenCalledTimes(1);
    subscribe.mockRestore();
    expect(acks).toHaveLength(1000);
    expect(new Set(acks.map((a) => a.seq)).size).toBe(1000);
    expect(acks.every((a) => a.stream === 'PUB_TEST' && !a.duplicate)).toBe(true);
    expect(again[0].seq).toBe(Math.max(...acks.map((a) => a.seq)) + 1);
    // What the stream holds is what was sent, under the message ids given.
    const stored = await jsm.streams.getMessage('PUB_TEST', { seq: acks[42].seq });
    expect(stored.subject).toBe('pubtest.many.0');
    expect(stored.json()).toEqual({ i: 42 });
    expect(stored.header.get('Nats-Msg-Id')).toBe('many-42');
  });

  it('stores a repeated message id once and says it was a duplicate', async () => {
    const publisher = new StreamPublisher(nc);
    const [first] = await publisher.publish([{ subject: 'pubtest.dup', data: 'one', msgId: 'dup-1' }]);
    const [second] = await publisher.publish([{ subject: 'pubtest.dup', data: 'one', msgId: 'dup-1' }]);
    expect(first.duplicate).toBe(false);
    expect(second).toEqual({ stream: 'PUB_TEST', seq: first.seq, duplicate: true });
    expect((await jsm.streams.getMessage('PUB_TEST', { last_by_subj: 'pubtest.dup' })).seq).toBe(first.seq);
  });

  it('refuses a subject no stream captures at once, not after its timeout', async () => {
    // A timeout far longer than this test may run: only the server's "no responders" can end it.
    const publisher = new StreamPublisher(nc, 60_000);
    await expect(publisher.publish([{ subject: 'nostream.here', data: 'x', msgId: 'n-1' }])).rejects.toThrow(
      'could not publish nostream.here: no stream captures this subject',
    );
  }, 10_000);

  it("passes the stream's refusal on, and fails the whole call when one message is refused", async () => {
    const publisher = new StreamPublisher(nc);
    await publisher.publish([{ subject: 'pubfull.a', data: 'first', msgId: 'full-1' }]);
    await expect(
      publisher.publish([
        { subject: 'pubtest.ok', data: 'fine', msgId: 'ok-1' },
        { subject: 'pubfull.a', data: 'second', msgId: 'full-2' },
      ]),
    ).rejects.toThrow(/could not publish pubfull\.a: maximum messages exceeded/);
    expect((await jsm.streams.info('PUB_FULL')).state.messages).toBe(1);
  });

  it('times out a message nobody acknowledges, then keeps publishing', async () => {
    // Something listens on the subject (so no "no responders"), but it is not a stream.
    const silent = nc.subscribe('silent.subject', { callback: () => undefined });
    const publisher = new StreamPublisher(nc, 300);
    await expect(publisher.publish([{ subject: 'silent.subject', data: 'x', msgId: 's-1' }])).rejects.toThrow(
      'JetStream did not acknowledge silent.subject within 300 ms',
    );
    silent.unsubscribe();
    const [ack] = await publisher.publish([{ subject: 'pubtest.after', data: 'y', msgId: 'after-timeout' }]);
    expect(ack.stream).toBe('PUB_TEST');
  });

  it('fails at once on a closed connection instead of waiting', async () => {
    const other = await connect({ servers: nats.url });
    const publisher = new StreamPublisher(other, 60_000);
    await publisher.publish([{ subject: 'pubtest.closing', data: 'x', msgId: 'closing-1' }]);
    await other.close();
    await expect(publisher.publish([{ subject: 'pubtest.closing', data: 'y', msgId: 'closing-2' }])).rejects.toThrow(/closed/i);
  }, 10_000);
});
