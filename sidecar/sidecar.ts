// Wires the sidecar: builds its clients and each stage (receive, write, settle, fleet) in order.
import type { Registry } from "prom-client";
import { RETRY_POLICIES } from "../shared/util/backoff.js";
import { createClients } from "./config/clients.js";
import { createSidecarMetrics } from "./config/metrics.js";
import type { SidecarOptions } from "./config/options.js";
import { resolveOptions } from "./config/resolve.js";
import { createFleetStage } from "./fleet/stage.js";
import { Health } from "./health.js";
import { createLifecycle } from "./lifecycle.js";
import { DepthCache } from "./receive/depth-cache.js";
import { RecordBuffer } from "./receive/record-buffer.js";
import { SqsOps } from "./receive/sqs-ops.js";
import { createReceiveStage } from "./receive/stage.js";
import { createRetentionStage } from "./retention/stage.js";
import { createSettleStage } from "./settle/stage.js";
import { StreamGaps } from "./settle/stream-gaps.js";
import { StreamBook } from "./settle/streams.js";
import { type DigestDoc, digestCollectionName } from "./verify/digest.js";
import { Wakeup } from "./wakeup.js";
import { createDeadline, createPatientDeadline, SLOW_READ_PERIODS } from "./write/deadline.js";
import { pingProbe } from "./write/isolation.js";
import { createWriteStage } from "./write/stage.js";

export type { SidecarOptions } from "./config/options.js";

export interface Sidecar {
  /** Starts connecting and polling in the background; `isReady()` says when it works. */
  start(): Promise<void>;
  /**
   * Stops polling (aborting long polls), lets writes in flight finish and deletes their
   * messages, releases every other held message (visibility 0), closes what it opened.
   * Bounded by `shutdownTimeoutMs`. Idempotent: a second call returns the same promise.
   */
  stop(): Promise<void>;
  /** True once connected, while the last SQS and MongoDB calls succeeded, and not stopping. */
  isReady(): boolean;
  readonly registry: Registry;
}

const RETRY = RETRY_POLICIES.sidecarRecovery;

/** Creates the sidecar. Nothing connects until `start()`. Throws ConfigError on bad options. */
export function createSidecar(options: SidecarOptions): Sidecar {
  const config = resolveOptions(options);
  const clients = createClients(config);
  const { registry, logger } = clients;
  // The depth gauges read the queue through the cache and SqsOps, which count into the metrics:
  // the gauges first call `depth` at a scrape, once this function has returned.
  const metrics = createSidecarMetrics(registry, () => depth.get());
  const sqsOps = new SqsOps(clients.sqs, config.queueUrl, metrics, logger);
  const depth = new DepthCache(
    () => sqsOps.depth(),
    () => metrics.depthReadFailures.inc(),
  );
  const db = clients.mongo.db(config.database);
  const records = db.collection(config.collection);
  const quarantined = db.collection(config.quarantineCollection);
  const digestDocs = db.collection<DigestDoc>(digestCollectionName(config.collection));
  const abort = new AbortController();
  const wakeup = new Wakeup();
  const deadline = createDeadline(config.mongoTimeoutMs, metrics, logger);
  const health = new Health(
    metrics,
    logger,
    () => wakeup.notify(),
    () => deadline("ping", db.command({ ping: 1 })),
  );
  const buffer = new RecordBuffer((held, delta) => {
    metrics.recordsHeld.set(held);
    if (delta < 0) wakeup.notify();
  });
  const common = { config, metrics, logger, retry: RETRY, wakeup, deadline, health, buffer };
  const settle = createSettleStage({ ...common, sqsOps });
  const store = { records, quarantined, mongoAnswers: pingProbe(db, logger) };
  const write = createWriteStage({ ...common, ...store, digestDocs, settler: settle.settler });
  const { rate } = write;
  const streams = db.collection(`${config.collection}_streams`);
  const gaps = new StreamGaps(
    records,
    streams,
    metrics.streamGap,
    config.streamGapSettleMs,
    logger,
  );
  settle.settler.streams = new StreamBook({
    streams,
    writeConcern: config.writeConcern,
    deadline,
    rate,
    metrics,
    logger,
    gaps,
  });
  const receive = createReceiveStage({
    ...common,
    ...store,
    sqsOps,
    settle,
    rate,
    quarantineGate: write.quarantineGate,
    signal: abort.signal,
  });
  const fleet = createFleetStage({ ...common, db, rate });
  const readDeadline = createPatientDeadline(
    config.mongoTimeoutMs,
    SLOW_READ_PERIODS,
    store.mongoAnswers,
    metrics,
    logger,
  );
  const retention = createRetentionStage({ ...common, db, rate, readDeadline });
  const lifecycle = createLifecycle({
    ...clients,
    ...common,
    records,
    digestDocs,
    sqsOps,
    receive,
    write,
    settle,
    fleet,
    retention,
    gaps,
    abort,
  });
  return {
    registry,
    start: () => lifecycle.start(),
    stop: () => lifecycle.stop(),
    isReady: () => health.isReady(),
  };
}
