// Prometheus metrics of the middleware and its batcher, registered on one (injectable) registry.
import {
  Counter,
  type CounterConfiguration,
  Gauge,
  type GaugeConfiguration,
  Histogram,
  type HistogramConfiguration,
  type Registry,
} from "prom-client";
import { registerBuildInfo } from "../../shared/util/build-info.js";

/** Why a request was left out: `methods`, `sampleRate`, `skip`, or `req.audit.skip()`. */
const SKIP_REASONS = ["method", "sample", "skip", "app", "nested"] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

/** Where inside auditq a capture failed (app hooks included). */
const CAPTURE_ERROR_KINDS = [
  "actor",
  "tenant",
  "skip",
  "build",
  "start",
  "error",
  "log",
  "context",
  "route",
] as const;
export type CaptureErrorKind = (typeof CAPTURE_ERROR_KINDS)[number];

/** Every reason a record can be dropped for; the metrics start each at zero. */
const DROP_REASONS = [
  "too_large",
  "buffer_full",
  "spool_full",
  "closed",
  "rejected",
  "invalid",
  "corrupt",
] as const;

export type DropReason = (typeof DROP_REASONS)[number];

const SQS_OUTCOMES = ["ok", "error"] as const;

/** Where a record came from: a captured request, or `audit.record()` (the record's `source`). */
const RECORD_SOURCES = ["http", "record"] as const;

export type MiddlewareMetrics = ReturnType<typeof createMiddlewareMetrics>;

/** A gauge one instance owns a share of: `set` moves the shared gauge by the difference. */
export interface GaugeShare {
  set(value: number): void;
}

/**
 * Returns the metric of that name already on the registry, or registers a new one. Two
 * middlewares given one registry then share their metrics instead of failing with "already
 * registered": counters and histograms add up, and gauges hold the sum of every instance's
 * share (see {@link GaugeShare}).
 */
function reuse<M>(registry: Registry, config: { name: string }, create: () => M): M {
  return (registry.getSingleMetric(config.name) as M | undefined) ?? create();
}

function share(gauge: Gauge): GaugeShare {
  let mine = 0;
  return {
    set(value: number) {
      gauge.inc(value - mine);
      mine = value;
    },
  };
}

/**
 * Sets each label combination to zero (`inc(0)`), so the series exist from the first scrape and
 * `increase()` sees the first drop or error instead of a series appearing already at 1.
 */
function zeroes<T extends string>(c: Counter<T>, label: T, values: readonly string[]): Counter<T> {
  for (const value of values) c.inc({ [label]: value } as Partial<Record<T, string>>, 0);
  return c;
}

/**
 * Creates (or joins) the middleware's metrics on `registry` (prom-client's global registry
 * unless the app passes one); several middlewares on one registry add up.
 */
export function createMiddlewareMetrics(registry: Registry) {
  const registers = [registry];
  const counter = <T extends string>(config: Omit<CounterConfiguration<T>, "registers">) =>
    reuse(registry, config, () => new Counter({ ...config, registers }));
  const histogram = <T extends string>(config: Omit<HistogramConfiguration<T>, "registers">) =>
    reuse(registry, config, () => new Histogram({ ...config, registers }));
  const gauge = (config: Omit<GaugeConfiguration<string>, "registers">) =>
    share(reuse(registry, config, () => new Gauge({ ...config, registers })));
  registerBuildInfo(registry, "middleware");
  const sqsRequests = counter({
    name: "auditq_sqs_requests_total",
    help: "SQS API calls by operation and outcome.",
    labelNames: ["operation", "outcome"] as const,
  });
  for (const outcome of SQS_OUTCOMES)
    sqsRequests.inc({ operation: "SendMessageBatch", outcome }, 0);
  return {
    recordsCaptured: zeroes(
      counter({
        name: "auditq_records_captured_total",
        help: "Records made, by source: `http` for finished requests, `record` for `audit.record()`.",
        labelNames: ["source"] as const,
      }),
      "source",
      RECORD_SOURCES,
    ),
    captureErrors: zeroes(
      counter({
        name: "auditq_capture_errors_total",
        help: "Failures inside auditq while capturing a request; the request itself is unaffected.",
        labelNames: ["kind"] as const,
      }),
      "kind",
      CAPTURE_ERROR_KINDS,
    ),
    recordsSkipped: zeroes(
      counter({
        name: "auditq_records_skipped_total",
        help: "Requests left out on purpose: by `methods`, `sampleRate`, `skip`, or `req.audit.skip()`.",
        labelNames: ["reason"] as const,
      }),
      "reason",
      SKIP_REASONS,
    ),
    recordsMinimal: counter({
      name: "auditq_records_minimal_total",
      help: "Records stored in minimal form (with `captureError`) because building the full record failed.",
    }),
    recordsTrimmed: zeroes(
      counter({
        name: "auditq_records_trimmed_total",
        help: "Records over maxRecordBytes whose largest fields were replaced by markers, by source.",
        labelNames: ["source"] as const,
      }),
      "source",
      RECORD_SOURCES,
    ),
    recordsSent: counter({
      name: "auditq_records_sent_total",
      help: "Records SQS accepted.",
    }),
    recordsDropped: zeroes(
      counter({
        name: "auditq_records_dropped_total",
        help: "Records given up on, by reason.",
        labelNames: ["reason"] as const,
      }),
      "reason",
      DROP_REASONS,
    ),
    retries: counter({
      name: "auditq_send_retries_total",
      help: "Records put back into the buffer after a failed send.",
    }),
    sqsRequests,
    sendSeconds: histogram({
      name: "auditq_sqs_send_duration_seconds",
      help: "Latency of SendMessageBatch calls.",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    }),
    bufferRecords: gauge({
      name: "auditq_buffer_records",
      help: "Records waiting in memory.",
    }),
    bufferBytes: gauge({
      name: "auditq_buffer_bytes",
      help: "Bytes held in memory: serialized records, encoded messages waiting or in flight.",
    }),
    spoolRecords: gauge({
      name: "auditq_spool_records",
      help: "Records in the on-disk spool not yet accepted by SQS.",
    }),
    spoolBytes: gauge({
      name: "auditq_spool_bytes",
      help: "Bytes of the on-disk spool's segment files.",
    }),
    billedRequests: zeroes(
      counter({
        name: "auditq_sqs_billed_requests_total",
        help: "SQS requests as billed: one per started 64 KiB of payload of each call.",
        labelNames: ["operation"] as const,
      }),
      "operation",
      ["SendMessageBatch"],
    ),
    sentBytes: counter({
      name: "auditq_sqs_sent_bytes_total",
      help: "Message bytes (body plus attributes, as SQS counts them) SQS accepted.",
    }),
    recordsPerMessage: histogram({
      name: "auditq_records_per_message",
      help: "Records packed into each SQS message sent.",
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2000, 4000, 8000],
    }),
    messagesPerCall: histogram({
      name: "auditq_messages_per_call",
      help: "Messages in each SendMessageBatch call.",
      buckets: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    }),
  };
}
