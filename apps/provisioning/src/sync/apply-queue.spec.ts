import { ApplyQueue } from './apply-queue';

/** A send whose calls each wait until the test lets them end. */
function controlledSend() {
  const calls: { batch: number; end: (err?: Error) => void }[] = [];
  const send = (batch: number) => new Promise<void>((resolve, reject) => calls.push({ batch, end: (err) => (err ? reject(err) : resolve()) }));
  return { calls, send };
}
const settle = () => new Promise((r) => setImmediate(r));

describe('ApplyQueue', () => {
  it('sends batches in the order pushed, at most `inFlight` at once, and drains once all have ended', async () => {
    const { calls, send } = controlledSend();
    const queue = new ApplyQueue(send, 2);
    queue.push([1, 2, 3]);
    expect(calls.map((c) => c.batch)).toEqual([1, 2]);
    let drained = false;
    const done = queue.drained().then(() => (drained = true));
    calls[1].end();
    await settle();
    expect(calls.map((c) => c.batch)).toEqual([1, 2, 3]);
    queue.push([4]);
    calls[0].end();
    await settle();
    expect(calls.map((c) => c.batch)).toEqual([1, 2, 3, 4]);
    calls[2].end();
    await settle();
    expect(drained).toBe(false);
    calls[3].end();
    await done;
    expect(drained).toBe(true);
  });

  it('sends nothing after the first failure, and drained rejects with it once what was in flight has ended', async () => {
    const { calls, send } = controlledSend();
    const queue = new ApplyQueue(send, 2);
    queue.push([1, 2, 3, 4]);
    let outcome: unknown = 'pending';
    const done = queue.drained().then(
      () => (outcome = 'drained'),
      (err: Error) => (outcome = err.message),
    );
    calls[0].end(new Error('refused'));
    await settle();
    expect(outcome).toBe('pending'); // batch 2 is still in flight
    queue.push([5]);
    calls[1].end();
    await done;
    expect(outcome).toBe('refused');
    expect(calls.map((c) => c.batch)).toEqual([1, 2]);
  });

  it('drains at once when nothing was pushed', async () => {
    await expect(new ApplyQueue(async () => undefined, 2).drained()).resolves.toBeUndefined();
  });
});
