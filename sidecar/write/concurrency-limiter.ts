// How many insertMany calls may run at once: fixed, or adaptive to MongoDB's write latency (AIMD).

export interface ConcurrencyLimiterOptions {
  /** The ceiling, and the starting limit. */
  max: number;
  /** Adapt the limit to latency; when false the limit stays at `max`. */
  adaptive: boolean;
  /** A sample this many times the baseline latency counts as congestion. Default 2. */
  tolerance?: number;
  /** Called whenever the limit changes. */
  onChange?: (limit: number) => void;
}

/**
 * A semaphore whose limit follows additive-increase/multiplicative-decrease: each write whose
 * latency stays within `tolerance` × baseline adds `1/limit` (about +1 per round of writes); a
 * slower write or a failed one multiplies the limit by 0.75, at most once per round. The baseline
 * is a moving average of latency (see adapt), so that a lasting change in MongoDB becomes the new
 * normal instead of pinning the limit at 1 for ever.
 */
export class ConcurrencyLimiter {
  private limitValue: number;
  private inflight = 0;
  private waiters: Array<() => void> = [];
  private baselineMs: number | undefined;
  private sinceDecrease = Number.POSITIVE_INFINITY;
  private readonly tolerance: number;

  constructor(private readonly options: ConcurrencyLimiterOptions) {
    this.limitValue = options.max;
    this.tolerance = options.tolerance ?? 2;
  }

  /** The current limit (an integer from 1 to max). */
  get limit(): number {
    return Math.max(1, Math.floor(this.limitValue));
  }

  get running(): number {
    return this.inflight;
  }

  get baseline(): number | undefined {
    return this.baselineMs;
  }

  /** Resolves once a slot is free; false (no slot granted) if `signal` aborts first. */
  acquire(signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    if (this.inflight < this.limit && this.waiters.length === 0) {
      this.inflight++;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const grant = () => {
        signal?.removeEventListener("abort", cancel);
        this.inflight++;
        resolve(true);
      };
      const cancel = () => {
        this.waiters = this.waiters.filter((w) => w !== grant);
        resolve(false);
      };
      this.waiters.push(grant);
      signal?.addEventListener("abort", cancel, { once: true });
    });
  }

  /** Gives back a slot that was not used for a write (no latency to learn from). */
  cancel(): void {
    this.inflight--;
    this.wakeWaiters();
  }

  /** A write is done: gives its slot back, with its latency, or `undefined` when it failed. */
  done(latencyMs: number | undefined): void {
    this.inflight--;
    if (this.options.adaptive) this.adapt(latencyMs);
    this.wakeWaiters();
  }

  private wakeWaiters(): void {
    while (this.inflight < this.limit && this.waiters.length > 0) {
      (this.waiters.shift() as () => void)();
    }
  }

  private adapt(latencyMs: number | undefined): void {
    const before = this.limit;
    this.sinceDecrease++;
    const congested =
      latencyMs === undefined ||
      (this.baselineMs !== undefined && latencyMs > this.baselineMs * this.tolerance);
    if (latencyMs !== undefined) {
      // A moving average, quick to follow MongoDB getting faster and slow to accept it getting
      // slower: jitter on a busy machine stays under `tolerance` × baseline, a real slowdown
      // does not (until it lasts, and becomes the new normal).
      const b = this.baselineMs ?? latencyMs;
      this.baselineMs = b + (latencyMs - b) * (latencyMs < b ? 0.2 : 0.02);
    }
    if (congested) {
      // One decrease per round of writes: the writes already in flight saw the same congestion.
      if (this.sinceDecrease >= this.limit) {
        this.limitValue = Math.max(1, this.limitValue * 0.75);
        this.sinceDecrease = 0;
      }
    } else {
      this.limitValue = Math.min(this.options.max, this.limitValue + 1 / this.limitValue);
    }
    if (this.limit !== before) this.options.onChange?.(this.limit);
  }
}
