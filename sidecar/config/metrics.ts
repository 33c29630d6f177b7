// Prometheus metrics of the sidecar, registered on one (injectable) registry.
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { registerBuildInfo } from "../../shared/util/build-info.js";

/** Stages of `auditq_sidecar_errors_total`; each starts at zero so `increase()` sees the first. */
const ERROR_STAGES = [
  "receive",
  "write",
  "quarantine",
  "delete",
  "visibility",
  "bootstrap",
  "lease",
] as const;

/** Every SQS operation the sidecar calls. */
const SQS_OPERATIONS = [
  "ReceiveMessage",
  "DeleteMessageBatch",
  "ChangeMessageVisibilityBatch",
  "GetQueueAttributes",
] as const;
export type SqsOperation = (typeof SQS_OPERATIONS)[number];

/**
 * MongoDB operations of the write path whose `auditq_sidecar_mongo_timeouts_total` series start
 * at zero, so `increase()` sees their first timeout; the fleet's lease operations appear at theirs.
 */
const MONGO_TIMEOUT_OPERATIONS = ["insert", "quarantine", "ping"] as const;

export type SidecarMetrics = ReturnType<typeof createSidecarMetrics>;

/** Queue depth as GetQueueAttributes reports it, at most DEPTH_MAX_AGE_MS old (depth-cache.ts). */
export type QueueDepthProbe = () => Promise<
  { visible: number; inflight: number; delayed: number } | undefined
>;

export function createSidecarMetrics(registry: Registry, probeDepth: QueueDepthProbe) {
  const registers = [registry];
  const counter = (name: string, help: string) => new Counter({ name, help, registers });
  registerBuildInfo(registry, "sidecar");
  const errors = new Counter({
    name: "auditq_sidecar_errors_total",
    help: "Failed operations by stage (receive, write, quarantine, delete, visibility, bootstrap, lease).",
    labelNames: ["stage"] as const,
    registers,
  });
  const sqsRequests = new Counter({
    name: "auditq_sidecar_sqs_requests_total",
    help: "SQS API calls by operation and outcome.",
    labelNames: ["operation", "outcome"] as const,
    registers,
  });
  const sqsBilled = new Counter({
    name: "auditq_sidecar_sqs_billed_requests_total",
    help: "SQS requests as billed (one per started 64 KiB of payload) by operation.",
    labelNames: ["operation"] as const,
    registers,
  });
  const mongoTimeouts = new Counter({
    name: "auditq_sidecar_mongo_timeouts_total",
    help: "MongoDB operations that passed mongoTimeoutMs, by operation; their messages are released.",
    labelNames: ["operation"] as const,
    registers,
  });
  // Every label combination exists from the first scrape, at zero.
  for (const stage of ERROR_STAGES) errors.inc({ stage }, 0);
  for (const operation of MONGO_TIMEOUT_OPERATIONS) mongoTimeouts.inc({ operation }, 0);
  for (const operation of SQS_OPERATIONS) {
    sqsBilled.inc({ operation }, 0);
    for (const outcome of ["ok", "error"]) sqsRequests.inc({ operation, outcome }, 0);
  }
  const depth = new Gauge({
    name: "auditq_sidecar_queue_messages",
    help: "Messages in the queue by state (visible, inflight, delayed), from GetQueueAttributes, read at most every 5 s; absent while the read fails.",
    labelNames: ["state"] as const,
    registers,
    async collect() {
      const d = await probeDepth();
      if (d === undefined) {
        // No stale value: the series disappear, and the failure counter says why.
        this.reset();
        return;
      }
      this.set({ state: "visible" }, d.visible);
      this.set({ state: "inflight" }, d.inflight);
      this.set({ state: "delayed" }, d.delayed);
    },
  });
  return {
    messagesReceived: counter("auditq_sidecar_messages_received_total", "SQS messages received."),
    messagesDeleted: counter(
      "auditq_sidecar_messages_deleted_total",
      "SQS messages deleted once each of their records was in the collection or in quarantine.",
    ),
    messagesReleased: counter(
      "auditq_sidecar_messages_released_total",
      "SQS messages given back unwritten (visibility set to 0 or a backoff delay).",
    ),
    messagesQuarantined: counter(
      "auditq_sidecar_messages_quarantined_total",
      "Undecodable SQS messages stored as raw text in the quarantine collection.",
    ),
    recordsWritten: counter(
      "auditq_sidecar_records_written_total",
      "Records inserted into MongoDB.",
    ),
    recordsDuplicate: counter(
      "auditq_sidecar_records_duplicate_total",
      "Records already in MongoDB with the same content (duplicate _id, a redelivery): counted as success.",
    ),
    recordsQuarantined: counter(
      "auditq_sidecar_records_quarantined_total",
      "Records MongoDB refused for a reason other than a duplicate _id, moved to quarantine.",
    ),
    depthReadFailures: counter(
      "auditq_sidecar_queue_depth_read_failures_total",
      "Failed GetQueueAttributes reads of the queue depth (the depth gauges are absent meanwhile).",
    ),
    recordsConflict: counter(
      "auditq_sidecar_records_conflict_total",
      "Records whose _id was already stored with other content: quarantined as conflicts, never merged.",
    ),
    errors,
    sqsRequests,
    sqsBilled,
    bulkSize: new Histogram({
      name: "auditq_sidecar_bulk_records",
      help: "Records per insertMany.",
      buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000],
      registers,
    }),
    writeSeconds: new Histogram({
      name: "auditq_sidecar_write_duration_seconds",
      help: "Latency of insertMany calls.",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    lagSeconds: new Histogram({
      name: "auditq_sidecar_end_to_end_lag_seconds",
      help: "Time from a record's ts (capture) to its write into MongoDB.",
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
      registers,
    }),
    lastWrite: new Gauge({
      name: "auditq_sidecar_last_write_timestamp_seconds",
      help: "Unix time of the last successful write to MongoDB.",
      registers,
    }),
    fleetBudget: new Gauge({
      name: "auditq_sidecar_fleet_budget_records_per_second",
      help: "Records per second the whole fleet may write: this sidecar's maxWriteRate (0 = no limit).",
      registers,
    }),
    writeShare: new Gauge({
      name: "auditq_sidecar_write_share_records_per_second",
      help: "This sidecar's share of the fleet budget: the rate of its token bucket (0 = no limit).",
      registers,
    }),
    fleetMembers: new Gauge({
      name: "auditq_sidecar_fleet_members",
      help: "Sidecars holding a live lease on this collection, this one included (0 without a budget).",
      registers,
    }),
    quarantineCapped: counter(
      "auditq_sidecar_quarantine_capped_total",
      "Quarantine entries not written because maxQuarantineRate was reached; their messages were released with backoff, not deleted.",
    ),
    fleetInvalidLeases: counter(
      "auditq_sidecar_fleet_invalid_leases_total",
      "Lease documents ignored at a renewal because they are malformed or stamped in the future of the server's clock (counted at each read).",
    ),
    mongoTimeouts,
    concurrencyLimit: new Gauge({
      name: "auditq_sidecar_write_concurrency_limit",
      help: "Current limit of insertMany calls in flight (adaptive when adaptiveConcurrency).",
      registers,
    }),
    writesInflight: new Gauge({
      name: "auditq_sidecar_writes_inflight",
      help: "insertMany calls in flight.",
      registers,
    }),
    recordsHeld: new Gauge({
      name: "auditq_sidecar_records_in_hand",
      help: "Records received from SQS and not yet settled.",
      registers,
    }),
    ready: new Gauge({
      name: "auditq_sidecar_ready",
      help: "1 while SQS and MongoDB are reachable and the sidecar is not stopping.",
      registers,
    }),
    depth,
  };
}
