/**
 * A run's batches on their way to the directory: sent as they are pushed, `inFlight` at a time
 * (the directory prepares one while PostgreSQL writes another), in the order pushed. The first
 * failure stops it: nothing more is sent, and `drained` rejects with it.
 */
export class ApplyQueue<B> {
  private readonly waiting: B[] = [];
  private readonly idle: (() => void)[] = [];
  private sending = 0;
  private failed: Error | undefined;

  constructor(
    private readonly send: (batch: B) => Promise<void>,
    private readonly inFlight: number,
  ) {}

  push(batches: readonly B[]): void {
    for (const b of batches) this.waiting.push(b);
    this.pump();
  }

  /** Once everything pushed so far is applied; rejects with the first failure (after what was in flight has ended). */
  async drained(): Promise<void> {
    while (this.sending > 0 || (this.waiting.length > 0 && !this.failed)) await new Promise<void>((resolve) => this.idle.push(resolve));
    if (this.failed) throw this.failed;
  }

  private pump(): void {
    while (!this.failed && this.sending < this.inFlight && this.waiting.length > 0) {
      const batch = this.waiting.shift()!;
      this.sending++;
      this.send(batch)
        .catch((err: Error) => {
          this.failed ??= err;
        })
        .finally(() => {
          this.sending--;
          this.pump();
          for (const wake of this.idle.splice(0)) wake();
        });
    }
  }
}
