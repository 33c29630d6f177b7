// Writes the buffered records into MongoDB in bulks, within the rate and concurrency limits.
// Each written bulk goes to the settler.
import type { Collection } from "mongodb";
import type { BackoffPolicy } from "../../shared/util/backoff.js";
import type { Logger } from "../../shared/util/logger.js";
import type { SidecarMetrics } from "../config/metrics.js";
import type { Config } from "../config/resolve.js";
import type { Health } from "../health.js";
import type { HeldMessage } from "../receive/held-message.js";
import type { PendingDoc, RecordBuffer } from "../receive/record-buffer.js";
import type { Settler } from "../settle/settler.js";
import type { Wakeup } from "../wakeup.js";
import { bulkLimit } from "./bulk-pacing.js";
import type { ConcurrencyLimiter } from "./concurrency-limiter.js";
import { findConflicts } from "./conflicts.js";
import type { Deadline } from "./deadline.js";
import { noteStored } from "./digest-writer.js";
import { insertIsolating } from "./isolation.js";
import type { RecordOutcome } from "./mongo-sink.js";
import { messagePayload, type QuarantineEntry, quarantine, recordText } from "./quarantine.js";
import { cappedReleaseSeconds, type QuarantineGate } from "./quarantine-gate.js";
import type { RateLimiter } from "./rate-limiter.js";

export interface BulkWriterDeps {
  config: Pick<Config, "bulkSize" | "bulkWaitMs" | "writeConcern">;
  deadline: Deadline;
  /** The conflict check's: patient with a server that is slow but answers (createPatientDeadline). */
  readDeadline: Deadline;
  records: Collection;
  quarantined: Collection;
  buffer: RecordBuffer;
  rate: RateLimiter;
  /** Every quarantine write passes it first: its cap, then the write budget. */
  quarantineGate: QuarantineGate;
  concurrency: ConcurrencyLimiter;
  settler: Settler;
  health: Health;
  wakeup: Wakeup;
  metrics: SidecarMetrics;
  logger: Logger;
  retry: BackoffPolicy;
  /** Whether MongoDB answers a ping (tells a poison record from an outage). */
  mongoAnswers(): Promise<boolean>;
  /** Whether stored records are hashed for their message's digest (`digests`). */
  digests: boolean;
}

export class BulkWriter {
  private readonly inflight = new Set<Promise<void>>();

  constructor(private readonly d: BulkWriterDeps) {}

  /** Resolves once every write begun so far has finished. */
  async drain(): Promise<void> {
    await Promise.all([...this.inflight]);
  }

  /** Starts bulks while records wait, until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const { buffer, config, wakeup } = this.d;
    while (!signal.aborted) {
      if (buffer.length === 0) {
        await wakeup.wait(signal);
        continue;
      }
      // Under a rate, small bulks often (a quarter second of the share) rather than large ones
      // seldom: the fleet's budget must hold over a few seconds, not only on average.
      const { rate, concurrency } = this.d;
      const bulkSize = bulkLimit(config.bulkSize, {
        ratePerSecond: rate.ratePerSecond,
        capacity: rate.capacity,
        latencyMs: concurrency.baseline,
        concurrency: concurrency.limit,
      });
      const age = buffer.ageMs();
      if (buffer.length < bulkSize && age < config.bulkWaitMs) {
        await wakeup.wait(signal, config.bulkWaitMs - age);
        continue;
      }
      if (!this.d.health.isMongoOk) {
        this.releaseWaiting();
        await wakeup.wait(signal);
        continue;
      }
      if (!(await this.d.concurrency.acquire(signal))) return;
      const bulk = buffer.peek(bulkSize);
      if (!(await rate.spend(bulk.length, signal))) {
        this.d.concurrency.cancel();
        return;
      }
      // Taken only now: while waiting for tokens, the bulk stayed in the buffer for stop().
      buffer.take(bulk.length);
      const write = this.write(bulk, signal).finally(() => this.inflight.delete(write));
      this.inflight.add(write);
    }
  }

  /**
   * MongoDB is failing: the records waiting for a bulk go back to the queue too. Held until it
   * answers again, they would stay hidden from the rest of the fleet for as long as the outage
   * lasts. Visible at once: they were never tried, and no sidecar receives while its MongoDB
   * fails, so there is no hot loop to slow down. Only this loop takes from the buffer, so no
   * bulk is being formed meanwhile.
   */
  private releaseWaiting(): void {
    const waiting = this.d.buffer.takeAll();
    if (waiting.length === 0) return;
    for (const p of waiting) p.owner.failed = true;
    this.d.settler.settle(waiting, 0);
  }

  private async write(bulk: PendingDoc[], signal: AbortSignal): Promise<void> {
    const { metrics, concurrency, logger } = this.d;
    metrics.bulkSize.observe(bulk.length);
    metrics.writesInflight.inc();
    const begunAt = performance.now();
    let outcomes: RecordOutcome[];
    try {
      const docs = bulk.map((p) => p.doc);
      outcomes = await this.d.deadline(
        "insert",
        insertIsolating(this.d.records, docs, this.d.config.writeConcern, this.d.mongoAnswers),
      );
      outcomes = await this.d.readDeadline(
        "conflict check",
        findConflicts(this.d.records, docs, outcomes),
      );
    } catch (err) {
      // Unknown outcome: delete nothing. SQS redelivers and the duplicate _id makes it harmless.
      metrics.writesInflight.dec();
      concurrency.done(undefined);
      metrics.errors.inc({ stage: "write" });
      logger.warn(
        { err, records: bulk.length },
        "MongoDB write failed; its messages will be redelivered",
      );
      for (const p of bulk) p.owner.failed = true;
      this.d.health.writeFailed(this.d.retry, signal);
      this.d.settler.settle(bulk);
      return;
    }
    const latencyMs = performance.now() - begunAt;
    metrics.writesInflight.dec();
    concurrency.done(latencyMs);
    metrics.writeSeconds.observe(latencyMs / 1000);
    metrics.lastWrite.setToCurrentTime();
    this.d.health.writeSucceeded();
    const releaseDelay = await this.quarantineRefused(bulk, outcomes, signal);
    this.d.settler.settle(bulk, releaseDelay);
  }

  /**
   * Counts the outcomes; moves records MongoDB refused to quarantine, or fails their message.
   * Returns the release delay of messages the quarantine's cap refused (else the default).
   */
  private async quarantineRefused(
    bulk: PendingDoc[],
    outcomes: RecordOutcome[],
    signal: AbortSignal,
  ): Promise<number | undefined> {
    const { metrics, logger } = this.d;
    const now = Date.now();
    const refused: QuarantineEntry[] = [];
    const refusedOwners: HeldMessage[] = [];
    // Counted once per bulk: an inc() per record cost ~1.7 µs each in the drain profile.
    let written = 0;
    let duplicate = 0;
    const { digests } = this.d;
    for (let i = 0; i < outcomes.length; i++) {
      const outcome = outcomes[i] as RecordOutcome;
      const p = bulk[i] as PendingDoc;
      if (outcome.kind === "written") {
        written++;
        if (digests) noteStored(p);
        if (p.doc.ts instanceof Date) metrics.lagSeconds.observe((now - p.doc.ts.getTime()) / 1000);
      } else if (outcome.kind === "duplicate") {
        duplicate++;
        // The stored record has this content (a conflict is not a duplicate): its hash is ours.
        if (digests) noteStored(p);
      } else {
        const entry = quarantineEntry(p, outcome);
        if (outcome.kind === "conflict") metrics.recordsConflict.inc();
        logger.warn(
          { messageId: p.owner.messageId, index: p.index, reason: entry.error.message },
          outcome.kind === "conflict"
            ? "a record conflicts with the stored record of its _id; quarantining it"
            : "MongoDB refused a record; quarantining it",
        );
        refused.push(entry);
        refusedOwners.push(p.owner);
      }
    }
    if (written > 0) metrics.recordsWritten.inc(written);
    if (duplicate > 0) metrics.recordsDuplicate.inc(duplicate);
    if (refused.length === 0) return undefined;
    const admission = await this.d.quarantineGate.admit(refused.length, signal);
    if (admission !== "admitted") {
      for (const owner of refusedOwners) owner.failed = true;
      if (admission === "aborted") return undefined;
      return cappedReleaseSeconds(Math.min(...refusedOwners.map((o) => o.receiveCount)));
    }
    try {
      const stored = await this.d.deadline(
        "quarantine",
        quarantine(this.d.quarantined, refused, this.d.config.writeConcern, this.d.mongoAnswers),
      );
      metrics.recordsQuarantined.inc(refused.filter((e) => e.kind === "record").length);
      if (stored.reduced > 0) {
        logger.warn({ reduced: stored.reduced }, "quarantine entries stored reduced");
      }
    } catch (err) {
      metrics.errors.inc({ stage: "quarantine" });
      logger.warn({ err, records: refused.length }, "cannot quarantine; messages stay queued");
      for (const owner of refusedOwners) owner.failed = true;
    }
    return undefined;
  }
}

/** The quarantine entry of a record refused, or conflicting with the stored record of its `_id`. */
function quarantineEntry(
  p: PendingDoc,
  outcome: Extract<RecordOutcome, { kind: "failed" | "conflict" }>,
): QuarantineEntry {
  const common = {
    messageId: p.owner.messageId,
    index: p.index,
    receiveCount: p.owner.receiveCount,
    raw: recordText(p.doc),
    body: p.owner.message.Body ?? "",
    payload: messagePayload(p.owner.message),
  };
  if (outcome.kind === "failed") {
    return { kind: "record", ...common, error: { code: outcome.code, message: outcome.message } };
  }
  return {
    kind: "conflict",
    ...common,
    error: { message: "_id is taken by a stored record with other content; not merged" },
    conflict: { storedHash: outcome.storedHash, hash: outcome.hash },
  };
}
