// Starts and stops the sidecar: start() and stop() of the Sidecar interface.
// start() prepares until both services answer and runs the loops; stop() lets writes in flight
// finish within the deadline, releases every other held message and closes what the sidecar
// opened.
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { Collection, MongoClient } from "mongodb";
import { type BackoffPolicy, backoffDelay } from "../shared/util/backoff.js";
import { ConfigError } from "../shared/util/errors.js";
import type { Logger } from "../shared/util/logger.js";
import { sleep, withDeadline } from "../shared/util/timers.js";
import type { SidecarMetrics } from "./config/metrics.js";
import type { Config } from "./config/resolve.js";
import type { FleetMembership } from "./fleet/lease.js";
import type { Health } from "./health.js";
import type { RecordBuffer } from "./receive/record-buffer.js";
import type { SqsOps } from "./receive/sqs-ops.js";
import type { ReceiveStage } from "./receive/stage.js";
import type { RetentionStage } from "./retention/stage.js";
import type { SettleStage } from "./settle/stage.js";
import type { StreamGaps } from "./settle/stream-gaps.js";
import type { DigestDoc } from "./verify/digest.js";
import type { Wakeup } from "./wakeup.js";
import { ensureDigestIndexes, ensureIndexes } from "./write/indexes.js";
import type { WriteStage } from "./write/stage.js";

export interface LifecycleDeps {
  config: Config;
  mongo: MongoClient;
  ownsMongo: boolean;
  sqs: SQSClient;
  ownsSqs: boolean;
  records: Collection;
  digestDocs: Collection<DigestDoc>;
  sqsOps: SqsOps;
  buffer: RecordBuffer;
  receive: ReceiveStage;
  write: WriteStage;
  settle: SettleStage;
  /** The fleet lease, when there is a budget to share. */
  fleet: FleetMembership | undefined;
  /** The retention sweeps, when `retentionDays` > 0. */
  retention: RetentionStage | undefined;
  /** The stream gap gauge's rounds. */
  gaps?: StreamGaps | undefined;
  health: Health;
  wakeup: Wakeup;
  /** Aborted by stop(): ends the loops and interrupts long polls. */
  abort: AbortController;
  metrics: SidecarMetrics;
  logger: Logger;
  retry: BackoffPolicy;
}

/** The sidecar's start() and stop(), as the Sidecar interface documents them. */
export interface Lifecycle {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createLifecycle(d: LifecycleDeps): Lifecycle {
  let started = false;
  let stopping: Promise<void> | undefined;
  let loops: Promise<void>[] = [];
  return {
    async start() {
      if (stopping) throw new ConfigError("a stopped sidecar cannot be started again");
      if (started) return;
      started = true;
      const { signal } = d.abort;
      d.settle.keeper.start();
      d.gaps?.start();
      const pollers = d.receive.startPollers();
      // Retention starts once MongoDB answers (and the share is known), never before.
      const prepared = bootstrap(d, signal).then(() => d.retention?.run(signal));
      loops = [prepared, d.write.writer.run(signal), ...pollers];
      d.logger.info({ queueUrl: d.config.queueUrl, pollers: d.config.pollers }, "sidecar started");
    },
    stop() {
      if (stopping === undefined) {
        d.health.markStopping();
        d.abort.abort();
        d.wakeup.notify();
        stopping = shutdown(d, loops);
      }
      return stopping;
    },
  };
}

/** Connects and ensures the indexes, retrying with backoff, until both services answer. */
async function bootstrap(d: LifecycleDeps, signal: AbortSignal): Promise<void> {
  for (let attempt = 1; !signal.aborted; attempt++) {
    try {
      if (d.ownsMongo) await d.mongo.connect();
      await ensureIndexes(d.records, d.config.indexes, d.config.retentionDays, d.logger);
      if (d.config.digests) await ensureDigestIndexes(d.records, d.digestDocs, d.logger);
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

/**
 * The second half of stop(), after the abort (`loops` have been told to stop): bounded by
 * `shutdownTimeoutMs`.
 */
async function shutdown(d: LifecycleDeps, loops: readonly Promise<void>[]): Promise<void> {
  const { writer } = d.write;
  const { keeper, settler } = d.settle;
  // Most of the budget for the writes in flight, the rest for releasing what is left.
  const releaseMs = Math.min(2_000, d.config.shutdownTimeoutMs / 2);
  const drainMs = d.config.shutdownTimeoutMs - releaseMs;
  try {
    const drained = (async () => {
      await Promise.all(loops);
      await writer.drain();
      await d.write.digests?.drain();
      await settler.sendPending();
    })();
    if ((await withDeadline(drained, drainMs)) === "timeout") {
      d.logger.warn(
        { deadlineMs: drainMs },
        "writes did not finish in time; releasing their messages",
      );
    }
    // Everything still held (not written, or written past the deadline) goes back to the queue.
    const held = keeper.all();
    d.buffer.clear();
    // Settled messages still waiting for their delete (a write finished past the deadline).
    const sending = settler.sendPending();
    if (held.length > 0) {
      const released = await withDeadline(keeper.release(held, 0), releaseMs);
      if (released !== "timeout") d.metrics.messagesReleased.inc(released);
      d.logger.info({ released, held: held.length }, "released messages in hand");
    }
    await withDeadline(sending, releaseMs);
  } finally {
    // Left last, after the writes: the others share out this part only once it is unused.
    if (d.fleet !== undefined && (await withDeadline(d.fleet.leave(), releaseMs)) === "timeout") {
      d.logger.warn({ deadlineMs: releaseMs }, "fleet lease not released in time; it lapses");
    }
    await keeper.stop();
    await withDeadline(d.gaps?.stop() ?? Promise.resolve(), releaseMs);
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
