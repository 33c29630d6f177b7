// Prometheus metrics of the middleware and its batcher, registered on one (injectable) registry.
import { Counter, Gauge, Histogram, type Registry } from "prom-client";

export type MiddlewareMetrics = ReturnType<typeof createMiddlewareMetrics>;

/**
 * Creates the middleware's metrics on `registry`. Each middleware instance gets its own
 * registry by default, so two instances in one process never collide.
 */
export function createMiddlewareMetrics(registry: Registry) {
  const registers = [registry];
  return {
    recordsCaptured: new Counter({
      name: "auditq_records_captured_total",
      help: "Records captured from finished requests.",
      registers,
    }),
    captureErrors: new Counter({
      name: "auditq_capture_errors_total",
      help: "Failures inside auditq while capturing a request; the request itself is unaffected.",
      labelNames: ["kind"] as const,
      registers,
    }),
    recordsSkipped: new Counter({
      name: "auditq_records_skipped_total",
      help: "Requests left out on purpose: by `methods`, `sampleRate`, `skip`, or `req.audit.skip()`.",
      labelNames: ["reason"] as const,
      registers,
    }),
    recordsTrimmed: new Counter({
      name: "auditq_records_trimmed_total",
      help: "Records over maxRecordBytes whose largest fields were replaced by markers.",
      registers,
    }),
    recordsSent: new Counter({
      name: "auditq_records_sent_total",
      help: "Records SQS accepted.",
      registers,
    }),
    recordsDropped: new Counter({
      name: "auditq_records_dropped_total",
      help: "Records given up on, by reason.",
      labelNames: ["reason"] as const,
      registers,
    }),
    retries: new Counter({
      name: "auditq_send_retries_total",
      help: "Records put back into the buffer after a failed send.",
      registers,
    }),
    sqsRequests: new Counter({
      name: "auditq_sqs_requests_total",
      help: "SQS API calls by operation and outcome.",
      labelNames: ["operation", "outcome"] as const,
      registers,
    }),
    sendSeconds: new Histogram({
      name: "auditq_sqs_send_duration_seconds",
      help: "Latency of SendMessageBatch calls.",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    bufferRecords: new Gauge({
      name: "auditq_buffer_records",
      help: "Records waiting in memory.",
      registers,
    }),
    bufferBytes: new Gauge({
      name: "auditq_buffer_bytes",
      help: "Bytes held in memory: serialized records, encoded messages waiting or in flight.",
      registers,
    }),
    spoolRecords: new Gauge({
      name: "auditq_spool_records",
      help: "Records in the on-disk spool not yet accepted by SQS.",
      registers,
    }),
    spoolBytes: new Gauge({
      name: "auditq_spool_bytes",
      help: "Bytes of the on-disk spool's segment files.",
      registers,
    }),
    billedRequests: new Counter({
      name: "auditq_sqs_billed_requests_total",
      help: "SQS requests as billed: one per started 64 KiB of payload of each call.",
      labelNames: ["operation"] as const,
      registers,
    }),
    sentBytes: new Counter({
      name: "auditq_sqs_sent_bytes_total",
      help: "Message bytes (body plus attributes, as SQS counts them) SQS accepted.",
      registers,
    }),
    recordsPerMessage: new Histogram({
      name: "auditq_records_per_message",
      help: "Records packed into each SQS message sent.",
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2000, 4000, 8000],
      registers,
    }),
    messagesPerCall: new Histogram({
      name: "auditq_messages_per_call",
      help: "Messages in each SendMessageBatch call.",
      buckets: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      registers,
    }),
  };
}
