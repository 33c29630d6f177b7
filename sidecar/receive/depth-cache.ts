// Reads the queue depth at most once per interval, however often /metrics is scraped.

export interface QueueDepth {
  visible: number;
  inflight: number;
  delayed: number;
}

/**
 * Longest a depth reading is reused. SQS updates its approximate counts about once a minute
 * anyway; 5 s keeps a dashboard current while 300 scrapes a second cost one call per 5 s.
 */
export const DEPTH_MAX_AGE_MS = 5_000;

/**
 * A single-flight, time-bounded cache of one async reading. Concurrent callers share the read in
 * progress; a result (a failure too, as undefined) is reused for `maxAgeMs`, so that neither a
 * scrape storm nor an SQS outage turns into one SQS call per scrape.
 */
export class DepthCache {
  private last: { at: number; value: QueueDepth | undefined } | undefined;
  private reading: Promise<QueueDepth | undefined> | undefined;

  constructor(
    /** Reads the depth; undefined when SQS cannot be asked. */
    private readonly read: () => Promise<QueueDepth | undefined>,
    private readonly onReadFailed: () => void,
    private readonly maxAgeMs = DEPTH_MAX_AGE_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** The depth read at most `maxAgeMs` ago, or undefined when that read failed. */
  get(): Promise<QueueDepth | undefined> {
    if (this.last !== undefined && this.now() - this.last.at < this.maxAgeMs) {
      return Promise.resolve(this.last.value);
    }
    this.reading ??= this.refresh().finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }

  private async refresh(): Promise<QueueDepth | undefined> {
    let value: QueueDepth | undefined;
    try {
      value = await this.read();
    } catch (err) {
      // The reader reports its own failures as undefined; anything thrown is a bug to surface.
      this.last = { at: this.now(), value: undefined };
      this.onReadFailed();
      throw err;
    }
    if (value === undefined) this.onReadFailed();
    this.last = { at: this.now(), value };
    return value;
  }
}
