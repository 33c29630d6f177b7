// Deletes and releases settled messages in calls of up to 10 across bulks, not a call per bulk.
import type { Message } from "@aws-sdk/client-sqs";
import type { Logger } from "../../shared/util/logger.js";
import { SQS_MAX_BATCH_ENTRIES } from "../../shared/wire/sqs-limits.js";

/** The two SQS batch calls settling needs (SqsOps); each resolves with how many succeeded. */
interface SettleCalls {
  deleteMessages(messages: readonly Message[]): Promise<number>;
  changeVisibility(messages: readonly Message[], seconds: number): Promise<number>;
}

export interface SettleBatcherDeps {
  calls: SettleCalls;
  logger: Logger;
  /** Longest a settled message waits for others to share its call. */
  maxWaitMs: number;
  onDeleted(count: number): void;
  onReleased(count: number): void;
}

/**
 * Longest a settled message waits for a call to share, unless 10 are ready sooner: an eighth of
 * the visibility timeout (7.5 s by default), at most 10 s. Its records are stored when it waits
 * here, so waiting costs only a redelivery (deduplicated) if the process dies meanwhile. The
 * heartbeat stops at settling and extends a message once half its timeout has passed, checking
 * every quarter: a settled message still has at least a quarter of the timeout left, and an
 * eighth is kept for the call itself. Long enough that at low traffic, where messages settle one
 * at a time a linger apart, several share a call: that is where the calls per record are many.
 */
export function settleMaxWaitMs(visibilityTimeoutSeconds: number): number {
  return Math.min(10_000, (visibilityTimeoutSeconds * 1000) / 8);
}

/**
 * Collects messages to delete, and messages to release with a given delay, and sends each kind
 * as soon as 10 are waiting, when `sendPending()` is called (shutdown), or `maxWaitMs` after the first
 * one waited. One DeleteMessageBatch then settles up to 10 messages
 * from different bulks instead of one call per bulk: a message of 800 records settles in the
 * bulk that writes its last record, usually alone.
 */
export class SettleBatcher {
  private toDelete: Message[] = [];
  /** Messages to release, by the delay (seconds) they come back after. */
  private toRelease = new Map<number, Message[]>();
  private timer: NodeJS.Timeout | undefined;
  private readonly inflight = new Set<Promise<void>>();

  constructor(private readonly deps: SettleBatcherDeps) {}

  /** Messages waiting for their call. */
  get waiting(): number {
    let n = this.toDelete.length;
    for (const messages of this.toRelease.values()) n += messages.length;
    return n;
  }

  delete(message: Message): void {
    this.toDelete.push(message);
    if (this.toDelete.length >= SQS_MAX_BATCH_ENTRIES) this.sendDeletes();
    else this.arm();
  }

  /** Makes `message` visible again after `delaySeconds` (0 = now). */
  release(message: Message, delaySeconds: number): void {
    const group = this.toRelease.get(delaySeconds) ?? [];
    group.push(message);
    this.toRelease.set(delaySeconds, group);
    if (group.length >= SQS_MAX_BATCH_ENTRIES) this.sendReleases(delaySeconds);
    else this.arm();
  }

  /** Sends everything waiting; resolves when every call begun so far has finished. */
  async sendPending(): Promise<void> {
    this.disarm();
    if (this.toDelete.length > 0) this.sendDeletes();
    for (const delay of [...this.toRelease.keys()]) this.sendReleases(delay);
    while (this.inflight.size > 0) await Promise.all([...this.inflight]);
  }

  private arm(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.sendPending();
    }, this.deps.maxWaitMs);
    // Idle timers never hold a process open; stop() sends what is pending explicitly.
    this.timer.unref();
  }

  private disarm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private sendDeletes(): void {
    const messages = this.toDelete.splice(0, SQS_MAX_BATCH_ENTRIES);
    this.track(
      this.deps.calls.deleteMessages(messages).then((n) => this.deps.onDeleted(n)),
      "DeleteMessageBatch",
    );
    if (this.toDelete.length >= SQS_MAX_BATCH_ENTRIES) this.sendDeletes();
    else if (this.waiting === 0) this.disarm();
  }

  private sendReleases(delaySeconds: number): void {
    const group = this.toRelease.get(delaySeconds) ?? [];
    const messages = group.splice(0, SQS_MAX_BATCH_ENTRIES);
    if (group.length === 0) this.toRelease.delete(delaySeconds);
    this.track(
      this.deps.calls.changeVisibility(messages, delaySeconds).then((n) => this.deps.onReleased(n)),
      "ChangeMessageVisibilityBatch",
    );
    if (group.length >= SQS_MAX_BATCH_ENTRIES) this.sendReleases(delaySeconds);
    else if (this.waiting === 0) this.disarm();
  }

  private track(call: Promise<void>, operation: string): void {
    // SqsOps counts, logs and retries failures itself and resolves; this is the last guard, so
    // that an unexpected throw is logged instead of becoming an unhandled rejection.
    const tracked = call
      .catch((err: unknown) => this.deps.logger.error({ err, operation }, "settling failed"))
      .finally(() => this.inflight.delete(tracked));
    this.inflight.add(tracked);
  }
}
