// Tracks SQS send failures: how many in a row, since when, and the backoff pause before the
// next attempt (capped exponential, full jitter).
import { type BackoffPolicy, backoffDelay } from "../../shared/util/backoff.js";
import { isRetryableAwsError } from "../../shared/util/errors.js";
import type { Logger } from "../../shared/util/logger.js";
import type { DropReporter } from "./drop-reporter.js";

export interface SendFailuresConfig {
  retry: BackoffPolicy;
  logger: Logger;
  drops: DropReporter;
  /** Called when a backoff pause ends. */
  onRetryDue: () => void;
}

/** While closing, a retry comes sooner than the backoff says: the close deadline bounds it. */
const CLOSING_MAX_DELAY_MS = 500;

export class SendFailures {
  private readonly config: SendFailuresConfig;
  private failures = 0;
  private failingSince: number | undefined;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(config: SendFailuresConfig) {
    this.config = config;
  }

  /** SQS failed the last call: while it does, the batcher sends one probe at a time. */
  get failing(): boolean {
    return this.failures > 0;
  }

  /** A backoff pause is running: nothing is sent until it ends. */
  get pausing(): boolean {
    return this.retryTimer !== undefined;
  }

  /** How long SQS has been failing, in ms (undefined when it is not). */
  failingForMs(now = Date.now()): number | undefined {
    return this.failingSince === undefined ? undefined : now - this.failingSince;
  }

  succeeded(): void {
    const { failures, failingSince } = this;
    // State first, the app's logger last: a logger that throws must not leave the batcher
    // sending one probe at a time.
    this.failures = 0;
    this.failingSince = undefined;
    if (failures > 0) {
      this.config.logger.info(
        { failures, downMs: Date.now() - (failingSince ?? Date.now()) },
        "auditq: SQS takes messages again",
      );
    }
  }

  /**
   * Counts a failed call and pauses sending for a backoff delay. `draining` (the close deadline
   * passed): no pause, everything goes to the spool now. `closing`: a shorter pause.
   */
  failed(cause: unknown, state: { closing: boolean; draining: boolean }): void {
    this.failures++;
    this.failingSince ??= Date.now();
    const delay = backoffDelay(this.failures, this.config.retry);
    const retryable = isRetryableAwsError(cause);
    if (this.failures === 1) {
      this.config.drops.report(
        "ERR_AUDITQ_SQS",
        "SQS send failed; retrying with backoff",
        cause,
        retryable,
      );
    }
    if (!state.draining && this.retryTimer === undefined) {
      this.retryTimer = setTimeout(
        () => {
          this.retryTimer = undefined;
          this.config.onRetryDue();
        },
        state.closing ? Math.min(delay, CLOSING_MAX_DELAY_MS) : delay,
      );
      // Idle backoff never holds the process open; close()/flush() keep it alive themselves.
      this.retryTimer.unref();
    }
    // Last: the app's logger may throw (the caller reports it); the pause is armed by then.
    this.config.logger.debug({ err: cause, retryInMs: delay, retryable }, "SQS send failed");
  }

  /** Stops the backoff pause (close is over). */
  stop(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }
}
