// Whether the sidecar can do its job: started, SQS and MongoDB reachable, not stopping.
// And the probe that finds MongoDB again after a failed write.
import { type BackoffPolicy, backoffDelay } from "../shared/util/backoff.js";
import type { Logger } from "../shared/util/logger.js";
import { sleep } from "../shared/util/timers.js";
import type { SidecarMetrics } from "./config/metrics.js";

export class Health {
  private bootstrapped = false;
  private sqsOk = false;
  private mongoOk = false;
  private stopping = false;
  private probing = false;
  /** Consecutive failed writes and probes: drives the backoff of probes and releases. */
  writeFailures = 0;

  constructor(
    private readonly metrics: SidecarMetrics,
    private readonly logger: Logger,
    /** Hears every change that may let a waiting loop go on. */
    private readonly onChange: () => void,
    /** Asks MongoDB whether it answers (within the operation deadline). */
    private readonly ping: () => Promise<unknown>,
  ) {}

  isReady(): boolean {
    return this.bootstrapped && this.sqsOk && this.mongoOk && !this.stopping;
  }

  get isBootstrapped(): boolean {
    return this.bootstrapped;
  }

  get isMongoOk(): boolean {
    return this.mongoOk;
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  /** Both services answered once: polling may start. */
  markBootstrapped(): void {
    this.bootstrapped = true;
    this.sqsOk = true;
    this.update();
  }

  markStopping(): void {
    this.stopping = true;
    this.update();
  }

  setMongo(ok: boolean): void {
    if (ok !== this.mongoOk)
      this.logger.info({ reachable: ok }, ok ? "MongoDB reachable" : "MongoDB unreachable");
    this.mongoOk = ok;
    this.update();
  }

  setSqs(ok: boolean): void {
    if (ok && !this.sqsOk) this.logger.info({}, "SQS reachable");
    this.sqsOk = ok;
    this.metrics.ready.set(this.isReady() ? 1 : 0);
  }

  /** A write succeeded: the failure streak is over. */
  writeSucceeded(): void {
    this.writeFailures = 0;
    if (!this.mongoOk) this.setMongo(true);
  }

  /** A write failed: not ready until a probe gets an answer from MongoDB. */
  writeFailed(retry: BackoffPolicy, signal: AbortSignal): void {
    this.writeFailures++;
    this.setMongo(false);
    void this.recoverMongo(retry, signal);
  }

  /** Probes MongoDB with capped, jittered backoff until it answers. One probe loop at a time. */
  private async recoverMongo(retry: BackoffPolicy, signal: AbortSignal): Promise<void> {
    if (this.probing) return;
    this.probing = true;
    try {
      while (!signal.aborted) {
        await sleep(backoffDelay(this.writeFailures, retry), signal);
        if (signal.aborted) return;
        try {
          await this.ping();
          this.setMongo(true);
          return;
        } catch (err) {
          this.writeFailures++;
          this.logger.warn({ err }, "MongoDB still unreachable");
        }
      }
    } finally {
      this.probing = false;
    }
  }

  private update(): void {
    this.metrics.ready.set(this.isReady() ? 1 : 0);
    this.onChange();
  }
}
