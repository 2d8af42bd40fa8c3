/**
 * A counting semaphore: at most `size` holders at once, waiters served first come, first served.
 * The daemon's read-ahead takes one per chunk in flight (enriching or being delivered), which is
 * what bounds its memory.
 */
export class Slots {
  private used = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`slots: size must be a positive integer (got ${size})`);
  }

  /** Holders now. */
  get held(): number {
    return this.used;
  }

  /** Resolves when a slot is taken (at once if one is free and nobody waits). */
  acquire(): Promise<void> {
    if (this.used < this.size && this.waiters.length === 0) {
      this.used++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** Gives a slot back; the first waiter, if any, takes it over. */
  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else if (this.used > 0) this.used--;
    else throw new Error('slots: release without acquire');
  }
}
