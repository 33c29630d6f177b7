// Builds the write stage: the token bucket, the concurrency limit and the bulk writer.
// A bulk waits for tokens and a slot; the writer takes records from the buffer into MongoDB.
import type { Collection } from "mongodb";
import type { BackoffPolicy } from "../../shared/util/backoff.js";
import type { Logger } from "../../shared/util/logger.js";
import type { SidecarMetrics } from "../config/metrics.js";
import type { Config } from "../config/resolve.js";
import type { Health } from "../health.js";
import type { RecordBuffer } from "../receive/record-buffer.js";
import type { Settler } from "../settle/settler.js";
import type { Wakeup } from "../wakeup.js";
import { bucketCapacity } from "./bulk-pacing.js";
import { BulkWriter } from "./bulk-writer.js";
import { ConcurrencyLimiter } from "./concurrency-limiter.js";
import { createPatientDeadline, type Deadline, SLOW_READ_PERIODS } from "./deadline.js";
import { createQuarantineGate, type QuarantineGate } from "./quarantine-gate.js";
import { RateLimiter } from "./rate-limiter.js";

export interface WriteStageDeps {
  config: Pick<
    Config,
    | "maxWriteRate"
    | "bulkSize"
    | "bulkWaitMs"
    | "writeConcern"
    | "maxInflightWrites"
    | "adaptiveConcurrency"
    | "mongoTimeoutMs"
    | "maxQuarantineRate"
  >;
  records: Collection;
  quarantined: Collection;
  buffer: RecordBuffer;
  settler: Settler;
  health: Health;
  wakeup: Wakeup;
  deadline: Deadline;
  /** Whether MongoDB answers a ping (tells a poison record or a slow read from an outage). */
  mongoAnswers(): Promise<boolean>;
  metrics: SidecarMetrics;
  logger: Logger;
  retry: BackoffPolicy;
}

export interface WriteStage {
  /** This sidecar's token bucket; the fleet sets its rate to this sidecar's share. */
  rate: RateLimiter;
  /** What every quarantine write passes first: its cap, then the write budget. */
  quarantineGate: QuarantineGate;
  writer: BulkWriter;
}

export function createWriteStage(d: WriteStageDeps): WriteStage {
  const { config, metrics, logger } = d;
  // Empty at start: a sidecar that starts (or restarts) does not add a bucketful at once to what
  // the rest of the fleet writes.
  const rate = new RateLimiter(
    config.maxWriteRate,
    bucketCapacity(config.bulkSize, config.maxWriteRate),
    0,
  );
  const concurrency = new ConcurrencyLimiter({
    max: config.maxInflightWrites,
    adaptive: config.adaptiveConcurrency,
    onChange: (limit) => {
      metrics.concurrencyLimit.set(limit);
      logger.info({ limit }, "write concurrency limit changed");
    },
  });
  metrics.fleetBudget.set(config.maxWriteRate);
  metrics.writeShare.set(config.maxWriteRate);
  metrics.concurrencyLimit.set(concurrency.limit);
  const readDeadline = createPatientDeadline(
    config.mongoTimeoutMs,
    SLOW_READ_PERIODS,
    d.mongoAnswers,
    metrics,
    logger,
  );
  const quarantineGate = createQuarantineGate({
    maxQuarantineRate: config.maxQuarantineRate,
    rate,
    metrics,
    logger,
  });
  const writer = new BulkWriter({ ...d, readDeadline, rate, concurrency, quarantineGate });
  return { rate, quarantineGate, writer };
}
