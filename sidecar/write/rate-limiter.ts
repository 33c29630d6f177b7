// A token bucket of records per second: the ceiling on this sidecar's MongoDB write rate.

/** What the bucket saw since the last `usage()` call: the fleet's measure of this sidecar's demand. */
export interface RateUsage {
  /** Tokens spent: records let through. */
  spent: number;
  /** Whether any spend had to wait for tokens: the sidecar wanted more than its rate. */
  throttled: boolean;
}

/**
 * Tokens refill at `ratePerSecond` up to `capacity`. `spend(n)` waits until the bucket holds
 * `min(n, capacity)` tokens and then removes `n`, going into debt for a bulk larger than the
 * bucket, so that the long-run rate is exact whatever the bulk sizes. Waiters are served in
 * order. A rate of 0 means no limit. `setRate` changes both at once (the fleet's share moves)
 * and wakes a waiter at once so that it waits by the new rate.
 */
export class RateLimiter {
  private tokens: number;
  private last: number;
  private tail: Promise<boolean> = Promise.resolve(true);
  private wakeWaiter: (() => void) | undefined;
  private spent = 0;
  private throttled = false;

  /** `initialTokens`: a bucket that starts full lets its capacity through at once. */
  constructor(
    private rate: number,
    private cap: number,
    initialTokens = cap,
  ) {
    this.tokens = Math.min(initialTokens, cap);
    this.last = Date.now();
  }

  get ratePerSecond(): number {
    return this.rate;
  }

  get capacity(): number {
    return this.cap;
  }

  /** Changes rate and capacity from now on; tokens already earned are kept up to the capacity. */
  setRate(ratePerSecond: number, capacity: number): void {
    this.refill();
    this.rate = ratePerSecond;
    this.cap = capacity;
    this.tokens = Math.min(this.tokens, capacity);
    this.wakeWaiter?.();
  }

  /** Tokens spent and whether any spend waited, since the last call. */
  usage(): RateUsage {
    const out = { spent: this.spent, throttled: this.throttled };
    this.spent = 0;
    this.throttled = false;
    return out;
  }

  private refill(): void {
    const now = Date.now();
    this.tokens = Math.min(this.cap, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
  }

  /** Milliseconds until `n` tokens could be spent (0 = now). */
  delayFor(n: number): number {
    if (this.rate <= 0) return 0;
    this.refill();
    const need = Math.min(n, this.cap) - this.tokens;
    return need <= 0 ? 0 : Math.ceil((need / this.rate) * 1000);
  }

  /**
   * Spends `n` tokens now if the bucket holds `min(n, capacity)` (going into debt like spend()),
   * and says whether it did; never waits. For a cap that refuses rather than delays.
   */
  trySpend(n: number): boolean {
    if (this.delayFor(n) > 0) return false;
    if (this.rate > 0) this.tokens -= n;
    this.spent += n;
    return true;
  }

  /** Resolves true once `n` tokens are spent, or false (spending none) if `signal` aborts first. */
  spend(n: number, signal?: AbortSignal): Promise<boolean> {
    const turn = this.tail.then(() => this.waitAndSpend(n, signal));
    this.tail = turn;
    return turn;
  }

  private async waitAndSpend(n: number, signal?: AbortSignal): Promise<boolean> {
    for (;;) {
      if (signal?.aborted) return false;
      const delay = this.delayFor(n);
      if (delay === 0) {
        if (this.rate > 0) this.tokens -= n;
        this.spent += n;
        return true;
      }
      this.throttled = true;
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", wake);
          this.wakeWaiter = undefined;
          resolve();
        };
        const timer = setTimeout(wake, delay);
        this.wakeWaiter = wake;
        signal?.addEventListener("abort", wake, { once: true });
      });
    }
  }
}
