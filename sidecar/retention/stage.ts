// Builds retention: the loop that, every `retentionIntervalMs`, takes the sweeper lease and runs
// a sweep when this sidecar holds it and the fleet did not sweep within the interval, counting
// and logging each sweep.
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Db } from "mongodb";
import type { Logger } from "../../shared/util/logger.js";
import { sleep } from "../../shared/util/timers.js";
import type { SidecarMetrics } from "../config/metrics.js";
import type { Config } from "../config/resolve.js";
import type { Deadline } from "../write/deadline.js";
import type { RateLimiter } from "../write/rate-limiter.js";
import type { HoldDoc } from "./hold-filter.js";
import { holdsCollectionName } from "./holds.js";
import { sweep } from "./sweep.js";
import { mongoSweepStore, type SweepDoc, sweepsCollectionName } from "./sweep-store.js";
import { SweeperLease, type SweeperLeaseDoc } from "./sweeper-lease.js";

export interface RetentionStageDeps {
  config: Pick<
    Config,
    | "retentionDays"
    | "retentionIntervalMs"
    | "collection"
    | "leaseCollection"
    | "leaseLifetimeMs"
    | "bulkSize"
  >;
  db: Db;
  /** The write stage's token bucket. */
  rate: RateLimiter;
  deadline: Deadline;
  readDeadline: Deadline;
  metrics: SidecarMetrics;
  logger: Logger;
}

export interface RetentionStage {
  /** Sweeps every interval until `signal` aborts; resolves once the sweep running then stops. */
  run(signal: AbortSignal): Promise<void>;
}

/** Retention of this collection; undefined when `retentionDays` is 0 (keep forever). */
export function createRetentionStage(d: RetentionStageDeps): RetentionStage | undefined {
  const { config, db, metrics, logger } = d;
  if (config.retentionDays <= 0) return undefined;
  const lease = new SweeperLease({
    leases: db.collection<SweeperLeaseDoc>(config.leaseCollection),
    collection: config.collection,
    holder: `${hostname()}-${process.pid}-${randomBytes(4).toString("hex")}`,
    lifetimeMs: config.leaseLifetimeMs,
    deadline: d.deadline,
  });
  const store = mongoSweepStore({
    records: db.collection(config.collection),
    holds: db.collection<HoldDoc>(holdsCollectionName(config.collection)),
    sweeps: db.collection<SweepDoc>(sweepsCollectionName(config.collection)),
    deadline: d.deadline,
    readDeadline: d.readDeadline,
  });
  const once = async (signal: AbortSignal): Promise<void> => {
    const serverNow = await lease.acquire();
    if (serverNow === undefined) {
      logger.debug({ collection: config.collection }, "another sidecar holds the retention lease");
      return;
    }
    const begunAt = Date.now();
    try {
      // The interval is the fleet's: a sidecar that finds a sweep finished within it leaves it.
      if (await store.sweptSince(new Date(serverNow - config.retentionIntervalMs))) {
        logger.debug({ collection: config.collection }, "the fleet swept within the interval");
        return;
      }
      const result = await sweep(
        {
          store,
          rate: d.rate,
          bulkSize: config.bulkSize,
          retentionDays: config.retentionDays,
          keepLease: () => lease.keep(),
          onBatch: (deleted) => {
            metrics.recordsExpired.inc(deleted);
            logger.debug({ deleted }, "retention batch deleted");
          },
        },
        begunAt,
        signal,
      );
      const seconds = (Date.now() - begunAt) / 1000;
      metrics.retentionSweepSeconds.set(seconds);
      if (result.end === "done") metrics.retentionLastSuccess.set(Date.now() / 1000);
      logger.info(
        {
          collection: config.collection,
          sweep: result.sweep.toHexString(),
          cutoff: result.cutoff.getTimestamp().toISOString(),
          deleted: result.deleted,
          batches: result.batches,
          seconds: Math.round(seconds * 10) / 10,
          end: result.end,
        },
        "retention sweep",
      );
    } finally {
      await lease.release().catch((err: unknown) => {
        // It lapses by itself within leaseLifetimeMs; the next sweep waits for that at most.
        logger.warn({ err }, "cannot release the retention lease; it lapses by itself");
      });
    }
  };
  return {
    async run(signal) {
      while (!signal.aborted) {
        try {
          await once(signal);
        } catch (err) {
          // Nothing below is lost: the sweep's document keeps its cut-off, and the next one resumes it.
          metrics.errors.inc({ stage: "retention" });
          logger.warn(
            { err, collection: config.collection },
            "retention sweep failed; trying again next interval",
          );
        }
        await sleep(config.retentionIntervalMs, signal);
      }
    },
  };
}
