// The consumer: takes its clients from clients.ts and wires intake, bulk writer, settler and health together.
import type { Registry } from "prom-client";
import { backoffDelay, RETRY_POLICIES } from "../shared/util/backoff.js";
import { ConfigError } from "../shared/util/errors.js";
import { SQS_MAX_RECEIVE_MESSAGES } from "../shared/wire/sqs-limits.js";
import { createClients } from "./config/clients.js";
import { createSidecarMetrics } from "./config/metrics.js";
import type { SidecarOptions } from "./config/options.js";
import { resolveOptions } from "./config/resolve.js";
import { FleetMembership, type LeaseDoc } from "./fleet/lease.js";
import { claimOf } from "./fleet/share.js";
import { Health } from "./health.js";
import { bootstrap, type LifecycleDeps, shutdown } from "./lifecycle.js";
import { createBatchIntake } from "./receive/batch-intake.js";
import { DepthCache } from "./receive/depth-cache.js";
import { heldLimits } from "./receive/held-budget.js";
import { PollDemand } from "./receive/poll-demand.js";
import { pollLoop } from "./receive/poller.js";
import { RecordBuffer } from "./receive/record-buffer.js";
import { SqsOps } from "./receive/sqs-ops.js";
import { SettleBatcher, settleMaxWaitMs } from "./settle/settle-batcher.js";
import { Settler } from "./settle/settler.js";
import { VisibilityKeeper } from "./settle/visibility.js";
import { Wakeup } from "./wakeup.js";
import { bucketCapacity } from "./write/bulk-pacing.js";
import { BulkWriter } from "./write/bulk-writer.js";
import { ConcurrencyLimiter } from "./write/concurrency-limiter.js";
import { createDeadline, createPatientDeadline, SLOW_READ_PERIODS } from "./write/deadline.js";
import { pingProbe } from "./write/isolation.js";
import { RateLimiter } from "./write/rate-limiter.js";

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
  const { mongo, ownsMongo, sqs, ownsSqs, registry, logger } = createClients(config);

  // The gauges read the depth through the cache; the cache and SqsOps count into the metrics.
  let ops: SqsOps | undefined;
  let failures: (() => void) | undefined;
  const depth = new DepthCache(
    () => (ops as SqsOps).depth(),
    () => failures?.(),
  );
  const metrics = createSidecarMetrics(registry, () => depth.get());
  failures = () => metrics.depthReadFailures.inc();
  ops = new SqsOps(sqs, config.queueUrl, metrics, logger);
  const sqsOps = ops;
  const keeper = new VisibilityKeeper(sqsOps, config.visibilityTimeoutSeconds, logger);
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

  const abort = new AbortController();
  const wakeup = new Wakeup();
  const db = mongo.db(config.database);
  const records = db.collection(config.collection);
  const quarantined = db.collection(config.quarantineCollection);
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
  const settleBatcher = new SettleBatcher({
    calls: sqsOps,
    logger,
    maxWaitMs: settleMaxWaitMs(config.visibilityTimeoutSeconds),
    onDeleted: (n) => metrics.messagesDeleted.inc(n),
    onReleased: (n) => metrics.messagesReleased.inc(n),
  });
  const releaseDelaySeconds = () =>
    health.isStopping
      ? 0
      : Math.min(30, Math.ceil(backoffDelay(health.writeFailures, RETRY) / 1000));
  const settler = new Settler(buffer, keeper, settleBatcher, releaseDelaySeconds);
  const mongoAnswers = pingProbe(db, logger);
  const maxHeld = heldLimits(config, () => rate.ratePerSecond);
  const writer = new BulkWriter({
    config,
    deadline,
    readDeadline: createPatientDeadline(
      config.mongoTimeoutMs,
      SLOW_READ_PERIODS,
      mongoAnswers,
      metrics,
      logger,
    ),
    records,
    quarantined,
    buffer,
    rate,
    concurrency,
    settler,
    health,
    wakeup,
    metrics,
    logger,
    retry: RETRY,
    mongoAnswers,
  });
  const intake = createBatchIntake({
    config,
    buffer,
    keeper,
    settler,
    quarantined,
    deadline,
    maxHeld,
    wakeup,
    signal: abort.signal,
    mongoAnswers,
    releaseDelaySeconds,
    metrics,
    logger,
  });
  let measuredSince = Date.now();
  const fleet =
    config.maxWriteRate > 0
      ? new FleetMembership({
          leases: db.collection<LeaseDoc>(config.leaseCollection),
          scope: config.collection,
          budget: config.maxWriteRate,
          lifetimeMs: config.leaseLifetimeMs,
          deadline,
          metrics,
          logger,
          demand: () => {
            const now = Date.now();
            const { spent, throttled } = rate.usage();
            const claim = claimOf(spent, (now - measuredSince) / 1000, throttled);
            measuredSince = now;
            return claim;
          },
          onShare: (share) => {
            rate.setRate(share, bucketCapacity(config.bulkSize, share));
            metrics.writeShare.set(share);
            wakeup.notify();
          },
        })
      : undefined;
  const lifecycle: LifecycleDeps = {
    config,
    mongo,
    ownsMongo,
    sqs,
    ownsSqs,
    records,
    sqsOps,
    fleet,
    health,
    metrics,
    logger,
    retry: RETRY,
  };
  let started = false;
  let stopping: Promise<void> | undefined;
  let loops: Promise<void>[] = [];

  return {
    registry,
    async start() {
      if (stopping) throw new ConfigError("a stopped sidecar cannot be started again");
      if (started) return;
      started = true;
      keeper.start();
      const demand = new PollDemand(() => wakeup.notify());
      const pollers = Array.from({ length: config.pollers }, (_, index) =>
        pollLoop({
          signal: abort.signal,
          retry: RETRY,
          canReceive: () =>
            demand.allows(index) &&
            health.isBootstrapped &&
            health.isMongoOk &&
            buffer.heldRecords < maxHeld.records &&
            buffer.heldBytes < maxHeld.bytes,
          waitForChange: (signal) => wakeup.wait(signal),
          receive: async (signal) => {
            const messages = await sqsOps.receive(
              SQS_MAX_RECEIVE_MESSAGES,
              config.waitTimeSeconds,
              config.visibilityTimeoutSeconds,
              signal,
            );
            demand.received(messages.length);
            return messages;
          },
          handle: async (messages) => {
            await intake(messages);
            wakeup.notify();
          },
          onReceiveResult: (err, retryInMs) => {
            health.setSqs(err === undefined);
            if (err !== undefined) {
              metrics.errors.inc({ stage: "receive" });
              logger.warn({ err, retryInMs }, "ReceiveMessage failed");
            }
          },
        }),
      );
      loops = [bootstrap(lifecycle, abort.signal), writer.run(abort.signal), ...pollers];
      logger.info({ queueUrl: config.queueUrl, pollers: config.pollers }, "sidecar started");
    },
    stop() {
      if (stopping === undefined) {
        health.markStopping();
        abort.abort();
        wakeup.notify();
        stopping = shutdown(lifecycle, { loops, writer, settler, buffer, keeper });
      }
      return stopping;
    },
    isReady: () => health.isReady(),
  };
}
