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
      help: "Serialized bytes waiting in memory.",
      registers,
    }),
  };
}
