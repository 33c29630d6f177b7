// Builds the fleet membership when there is a budget to share, bound to the token bucket.
// It measures this sidecar's demand from its bucket and sets the bucket to the share the fleet
// grants.
import type { Db } from "mongodb";
import type { Logger } from "../../shared/util/logger.js";
import type { SidecarMetrics } from "../config/metrics.js";
import type { Config } from "../config/resolve.js";
import type { Wakeup } from "../wakeup.js";
import { bucketCapacity } from "../write/bulk-pacing.js";
import type { Deadline } from "../write/deadline.js";
import type { RateLimiter } from "../write/rate-limiter.js";
import { FleetMembership, type LeaseDoc } from "./lease.js";
import { claimOf } from "./share.js";

export interface FleetStageDeps {
  config: Pick<
    Config,
    "maxWriteRate" | "leaseCollection" | "collection" | "leaseLifetimeMs" | "bulkSize"
  >;
  db: Db;
  rate: RateLimiter;
  wakeup: Wakeup;
  deadline: Deadline;
  metrics: SidecarMetrics;
  logger: Logger;
}

/** The membership of the fleet writing to this collection; undefined when `maxWriteRate` is 0. */
export function createFleetStage(d: FleetStageDeps): FleetMembership | undefined {
  const { config, rate, metrics } = d;
  if (config.maxWriteRate <= 0) return undefined;
  let measuredSince = Date.now();
  let last = { share: config.maxWriteRate, throttled: false };
  return new FleetMembership({
    leases: d.db.collection<LeaseDoc>(config.leaseCollection),
    scope: config.collection,
    budget: config.maxWriteRate,
    lifetimeMs: config.leaseLifetimeMs,
    deadline: d.deadline,
    metrics,
    logger: d.logger,
    demand: () => {
      const now = Date.now();
      const { spent, throttled } = rate.usage();
      const claim = claimOf(spent, (now - measuredSince) / 1000, throttled, last);
      measuredSince = now;
      last = { share: last.share, throttled };
      return claim;
    },
    onShare: (share) => {
      last = { share, throttled: last.throttled };
      rate.setRate(share, bucketCapacity(config.bulkSize, share));
      metrics.writeShare.set(share);
      d.wakeup.notify();
    },
  });
}
