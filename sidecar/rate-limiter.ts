// A token bucket of records per second: the ceiling on MongoDB's write rate.
import { sleep } from "../shared/timers.js";

/**
 * Tokens refill at `ratePerSecond` up to `capacity`. `take(n)` waits until the bucket holds
 * `min(n, capacity)` tokens and then removes `n`, going into debt for a bulk larger than the
 * bucket, so that the long-run rate is exact whatever the bulk sizes. Waiters are served in
 * order. A rate of 0 means no limit.
 */
export class RateLimiter {
  private tokens: number;
  private last: number;
  private tail: Promise<boolean> = Promise.resolve(true);

  constructor(
    readonly ratePerSecond: number,
    readonly capacity: number,
  ) {
    this.tokens = capacity;
    this.last = Date.now();
  }

  private refill(): void {
    const now = Date.now();
    this.tokens = Math.min(
      this.capacity,
      this.tokens + ((now - this.last) / 1000) * this.ratePerSecond,
    );
    this.last = now;
  }

  /** Milliseconds until `n` tokens could be taken (0 = now). */
  delayFor(n: number): number {
    if (this.ratePerSecond <= 0) return 0;
    this.refill();
    const need = Math.min(n, this.capacity) - this.tokens;
    return need <= 0 ? 0 : Math.ceil((need / this.ratePerSecond) * 1000);
  }

  /** Resolves true once `n` tokens are taken, or false (taking none) if `signal` aborts first. */
  take(n: number, signal?: AbortSignal): Promise<boolean> {
    if (this.ratePerSecond <= 0) return Promise.resolve(!signal?.aborted);
    const turn = this.tail.then(() => this.waitAndTake(n, signal));
    this.tail = turn;
    return turn;
  }

  private async waitAndTake(n: number, signal?: AbortSignal): Promise<boolean> {
    for (;;) {
      if (signal?.aborted) return false;
      const delay = this.delayFor(n);
      if (delay === 0) {
        this.tokens -= n;
        return true;
      }
      await sleep(delay, signal);
    }
  }
}
