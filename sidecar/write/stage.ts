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
import type { DigestDoc } from "../verify/digest.js";
import { loadPrivateKey } from "../verify/keys.js";
import type { Wakeup } from "../wakeup.js";
import { bucketCapacity } from "./bulk-pacing.js";
import { BulkWriter } from "./bulk-writer.js";
import { ConcurrencyLimiter } from "./concurrency-limiter.js";
import { createPatientDeadline, type Deadline, SLOW_READ_PERIODS } from "./deadline.js";
import { DigestWriter } from "./digest-writer.js";
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
    | "digests"
    | "digestSigningKey"
  >;
  records: Collection;
  /** `<collection>_digests`. */
  digestDocs: Collection<DigestDoc>;
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
  /** Writes each stored message's digests before its delete; undefined when `digests` is off. */
  digests: DigestWriter | undefined;
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
  const digests = config.digests ? createDigestWriter(d, rate) : undefined;
  const writer = new BulkWriter({
    ...d,
    readDeadline,
    rate,
    concurrency,
    quarantineGate,
    digests: digests !== undefined,
  });
  return { rate, quarantineGate, writer, digests };
}

/** The digest writer, gating the settler's deletes. Throws ConfigError on a bad signing key. */
function createDigestWriter(d: WriteStageDeps, rate: RateLimiter): DigestWriter {
  const { digestSigningKey } = d.config;
  const digests = new DigestWriter({
    digests: d.digestDocs,
    key:
      digestSigningKey === undefined
        ? undefined
        : loadPrivateKey(digestSigningKey, "digestSigningKey"),
    writeConcern: d.config.writeConcern,
    deadline: d.deadline,
    spend: (n) => rate.spend(n),
    done: (owner, ok) => d.settler.confirmed(owner, ok),
    logger: d.logger,
  });
  d.settler.useDeleteGate(digests);
  return digests;
}
