// How many insertMany calls may run at once: fixed, or adaptive to MongoDB's write latency.
//
// The adaptive rule follows Vector's Adaptive Request Concurrency (ARC): the latency of a round
// of writes is judged against a moving average of past rounds and their deviation, not against
// a fixed multiple of a best-case latency. https://vector.dev/docs/architecture/arc and
// vectordotdev/vector src/sinks/util/adaptive_concurrency/controller.rs (pull request 3671:
// "Use RTT variance instead of a fixed threshold").

export interface ConcurrencyLimiterOptions {
  /** The ceiling, and the starting limit. */
  max: number;
  /** Adapt the limit to latency; when false the limit stays at `max`. */
  adaptive: boolean;
  /** Called whenever the limit changes. */
  onChange?: (limit: number) => void;
}

/** Weight of the latest round in the moving average and variance (Vector's default). */
const ALPHA = 0.4;
/** A round this many deviations above the average is congestion (Vector's default). */
const DEVIATION_SCALE = 2.5;
/**
 * Nor is a round congestion unless it is at least this fraction above the average: a database
 * that answers with almost no jitter has almost no deviation, and the +33 % a serializing
 * database shows when the limit goes from 3 to 4 is its queue, not its collapse.
 */
const MIN_RISE = 0.5;
/** The limit after a decrease, as a fraction of the limit before. */
const DECREASE = 0.75;

/**
 * A semaphore whose limit follows additive-increase/multiplicative-decrease, judged once per
 * round of writes (as many completed writes as the limit: about one latency's worth of time).
 *
 * - A failed write (an error or a deadline) multiplies the limit by 0.75 at once, at most once
 *   per round: the writes already in flight saw the same trouble.
 * - At the end of a round, its mean latency is compared with the moving average of past rounds
 *   (`baseline`) and their deviation, the average scaled up by how many more writes were in
 *   flight than it was learnt at (never down): above that + max(2.5 deviations, 50 %)
 *   multiplies the limit by 0.75; within one deviation of it adds 1, but only if the round used
 *   every slot (no evidence that more would help otherwise); in between it stays.
 * - Every round then joins the average, so a lasting change in MongoDB becomes the new normal
 *   (instead of pinning the limit at 1 for ever), and a database that serializes writes, whose
 *   latency grows with the writes queued at it while its throughput stays flat, is read as the
 *   spread of its own latency rather than as congestion: it is driven at its pace.
 */
export class ConcurrencyLimiter {
  private limitValue: number;
  private inflight = 0;
  private waiters: Array<() => void> = [];
  /** Moving average and variance of rounds' mean latency (ms); undefined before the first. */
  private mean: number | undefined;
  private variance = 0;
  /** Moving average of the writes in flight (this one included) when rounds' writes ended. */
  private meanInflight = 1;
  // The current round.
  private completed = 0;
  private latencySum = 0;
  private inflightSum = 0;
  private latencies = 0;
  private usedEverySlot = false;
  private decreasedThisRound = false;

  constructor(private readonly options: ConcurrencyLimiterOptions) {
    this.limitValue = options.max;
  }

  /** The current limit (an integer from 1 to max). */
  get limit(): number {
    return Math.max(1, Math.floor(this.limitValue));
  }

  get running(): number {
    return this.inflight;
  }

  /** The typical write latency lately (ms): the moving average of rounds. */
  get baseline(): number | undefined {
    return this.mean;
  }

  /** Resolves once a slot is free; false (no slot granted) if `signal` aborts first. */
  acquire(signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    if (this.inflight < this.limit && this.waiters.length === 0) {
      this.take();
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const grant = () => {
        signal?.removeEventListener("abort", cancel);
        this.take();
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

  private take(): void {
    this.inflight++;
    if (this.inflight >= this.limit) this.usedEverySlot = true;
  }

  private wakeWaiters(): void {
    while (this.inflight < this.limit && this.waiters.length > 0) {
      (this.waiters.shift() as () => void)();
    }
  }

  private adapt(latencyMs: number | undefined): void {
    const before = this.limit;
    this.completed++;
    if (latencyMs === undefined) {
      if (!this.decreasedThisRound) {
        // A new round begins with the decrease: the writes still in flight saw the same trouble.
        this.decrease();
        this.resetRound();
        this.decreasedThisRound = true;
      }
    } else {
      this.latencySum += latencyMs;
      // What this write queued behind, approximately: the writes in flight as it ended.
      this.inflightSum += this.inflight + 1;
      this.latencies++;
    }
    if (this.completed >= this.limit) this.endRound();
    if (this.limit !== before) this.options.onChange?.(this.limit);
  }

  private endRound(): void {
    const current = this.latencies > 0 ? this.latencySum / this.latencies : undefined;
    const inflight = this.latencies > 0 ? this.inflightSum / this.latencies : 1;
    if (current !== undefined && this.mean !== undefined && !this.decreasedThisRound) {
      // More writes in flight than the average was learnt at explain a proportional rise (a
      // database that queues: throughput flat, by Little's law); fewer never demand a fall (a
      // database that runs writes in parallel answers as fast with one as with four).
      const expected = this.mean * Math.max(1, inflight / this.meanInflight);
      const deviation = Math.sqrt(this.variance);
      if (current > expected + Math.max(DEVIATION_SCALE * deviation, MIN_RISE * expected)) {
        this.decrease();
      } else if (current <= expected + deviation && this.usedEverySlot) {
        this.limitValue = Math.min(this.options.max, Math.floor(this.limitValue) + 1);
      }
    }
    if (current !== undefined) this.learn(current, inflight);
    this.resetRound();
  }

  private resetRound(): void {
    this.completed = 0;
    this.latencySum = 0;
    this.inflightSum = 0;
    this.latencies = 0;
    this.decreasedThisRound = false;
    this.usedEverySlot = this.inflight >= this.limit;
  }

  private decrease(): void {
    this.limitValue = Math.max(1, this.limitValue * DECREASE);
  }

  /** Exponentially weighted mean and variance of rounds' latency, and mean of their in-flight. */
  private learn(current: number, inflight: number): void {
    if (this.mean === undefined) {
      this.mean = current;
      this.meanInflight = inflight;
      return;
    }
    this.meanInflight += ALPHA * (inflight - this.meanInflight);
    const diff = current - this.mean;
    this.mean += ALPHA * diff;
    this.variance = (1 - ALPHA) * (this.variance + ALPHA * diff * diff);
  }
}
