// Prometheus metrics of the sidecar, registered on one (injectable) registry.
import { Counter, Gauge, Histogram, type Registry } from "prom-client";

export type SidecarMetrics = ReturnType<typeof createSidecarMetrics>;

export function createSidecarMetrics(registry: Registry) {
  const registers = [registry];
  return {
    messagesReceived: new Counter({
      name: "auditq_sidecar_messages_received_total",
      help: "SQS messages received.",
      registers,
    }),
    messagesDeleted: new Counter({
      name: "auditq_sidecar_messages_deleted_total",
      help: "SQS messages deleted after their records were durably written.",
      registers,
    }),
    messagesUndecodable: new Counter({
      name: "auditq_sidecar_messages_undecodable_total",
      help: "SQS messages whose body could not be decoded.",
      registers,
    }),
    recordsWritten: new Counter({
      name: "auditq_sidecar_records_written_total",
      help: "Records inserted into MongoDB.",
      registers,
    }),
    recordsDuplicate: new Counter({
      name: "auditq_sidecar_records_duplicate_total",
      help: "Records already in MongoDB (duplicate _id, a redelivery): counted as success.",
      registers,
    }),
    recordsFailed: new Counter({
      name: "auditq_sidecar_records_failed_total",
      help: "Records MongoDB refused for a reason other than a duplicate _id.",
      registers,
    }),
    errors: new Counter({
      name: "auditq_sidecar_errors_total",
      help: "Failed operations by stage (receive, write, delete).",
      labelNames: ["stage"] as const,
      registers,
    }),
    sqsRequests: new Counter({
      name: "auditq_sidecar_sqs_requests_total",
      help: "SQS API calls by operation and outcome.",
      labelNames: ["operation", "outcome"] as const,
      registers,
    }),
    writeSeconds: new Histogram({
      name: "auditq_sidecar_write_duration_seconds",
      help: "Latency of insertMany calls.",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    lastWrite: new Gauge({
      name: "auditq_sidecar_last_write_timestamp_seconds",
      help: "Unix time of the last successful write to MongoDB.",
      registers,
    }),
  };
}
