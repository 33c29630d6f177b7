// Start and stop: connect and prepare until both services answer; on stop, let writes in flight
// finish within the deadline, release every other message in hand, close what the sidecar opened.
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { Collection, MongoClient } from "mongodb";
import { type BackoffPolicy, backoffDelay } from "../shared/util/backoff.js";
import type { Logger } from "../shared/util/logger.js";
import { sleep, withDeadline } from "../shared/util/timers.js";
import type { SidecarMetrics } from "./config/metrics.js";
import type { Config } from "./config/resolve.js";
import type { FleetMembership } from "./fleet/lease.js";
import type { Health } from "./health.js";
import type { RecordBuffer } from "./receive/record-buffer.js";
import type { SqsOps } from "./receive/sqs-ops.js";
import type { Settler } from "./settle/settler.js";
import type { VisibilityKeeper } from "./settle/visibility.js";
import type { BulkWriter } from "./write/bulk-writer.js";
import { ensureIndexes } from "./write/indexes.js";

export interface LifecycleDeps {
  config: Config;
  mongo: MongoClient;
  ownsMongo: boolean;
  sqs: SQSClient;
  ownsSqs: boolean;
  records: Collection;
  sqsOps: SqsOps;
  /** The fleet lease, when there is a budget to share. */
  fleet: FleetMembership | undefined;
  health: Health;
  metrics: SidecarMetrics;
  logger: Logger;
  retry: BackoffPolicy;
}

/** Connects and ensures the indexes, retrying with backoff, until both services answer. */
export async function bootstrap(d: LifecycleDeps, signal: AbortSignal): Promise<void> {
  for (let attempt = 1; !signal.aborted; attempt++) {
    try {
      if (d.ownsMongo) await d.mongo.connect();
      await ensureIndexes(d.records, d.config.indexes, d.config.retentionDays, d.logger);
      // The first lease before the first write: a joiner starts at its floor, not at the budget.
      await d.fleet?.renew();
      d.health.setMongo(true);
      if ((await d.sqsOps.depth()) === undefined) throw new Error("SQS queue not reachable");
      d.fleet?.start();
      d.health.markBootstrapped();
      d.logger.info({ queueUrl: d.config.queueUrl, pollers: d.config.pollers }, "sidecar ready");
      return;
    } catch (err) {
      d.metrics.errors.inc({ stage: "bootstrap" });
      const delay = backoffDelay(attempt, d.retry);
      d.logger.warn({ err, retryInMs: delay }, "cannot start yet; retrying");
      await sleep(delay, signal);
    }
  }
}

export interface Running {
  /** The loops, already told to stop (the abort signal has fired). */
  loops: readonly Promise<void>[];
  writer: BulkWriter;
  settler: Settler;
  buffer: RecordBuffer;
  keeper: VisibilityKeeper;
}

/** The second half of stop(), after the abort: bounded by `shutdownTimeoutMs`. */
export async function shutdown(d: LifecycleDeps, r: Running): Promise<void> {
  // Most of the budget for the writes in flight, the rest for releasing what is left.
  const releaseMs = Math.min(2_000, d.config.shutdownTimeoutMs / 2);
  const drainMs = d.config.shutdownTimeoutMs - releaseMs;
  try {
    const drained = (async () => {
      await Promise.all(r.loops);
      await r.writer.drain();
      await r.settler.sendPending();
    })();
    if ((await withDeadline(drained, drainMs)) === "timeout") {
      d.logger.warn(
        { deadlineMs: drainMs },
        "writes did not finish in time; releasing their messages",
      );
    }
    // Everything still held (not written, or written past the deadline) goes back to the queue.
    const held = r.keeper.all();
    r.buffer.clear();
    // Settled messages still waiting for their delete (a write finished past the deadline).
    const sending = r.settler.sendPending();
    if (held.length > 0) {
      const released = await withDeadline(r.keeper.release(held, 0), releaseMs);
      if (released !== "timeout") d.metrics.messagesReleased.inc(released);
      d.logger.info({ released, held: held.length }, "released messages in hand");
    }
    await withDeadline(sending, releaseMs);
  } finally {
    // Left last, after the writes: the others share out this part only once it is unused.
    if (d.fleet !== undefined && (await withDeadline(d.fleet.leave(), releaseMs)) === "timeout") {
      d.logger.warn({ deadlineMs: releaseMs }, "fleet lease not released in time; it lapses");
    }
    await r.keeper.stop();
    if (d.ownsMongo) {
      try {
        await d.mongo.close(true);
      } catch (err) {
        d.logger.warn({ err }, "closing the MongoDB client failed");
      }
    }
    if (d.ownsSqs) d.sqs.destroy();
    d.logger.info({}, "sidecar stopped");
  }
}
