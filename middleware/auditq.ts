// The Express middleware factory: wires the options, clients, metrics and batcher to capture's
// request path (capture/request-path.ts), and adds the controls an app needs around it.
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { ObjectId } from "bson";
import type { ErrorRequestHandler, RequestHandler } from "express";
import type { Registry } from "prom-client";
import { RETRY_POLICIES } from "../shared/util/backoff.js";
import type { AuditRecord } from "../shared/wire/record.js";
import { SIGNATURE_ATTRIBUTE_BYTES } from "../shared/wire/signature.js";
import { SQS_MAX_BATCH_ENTRIES } from "../shared/wire/sqs-limits.js";
import { Batcher, type BatcherConfig, type CloseReport } from "./batcher/batcher.js";
import { capturedRecordJson } from "./capture/known-shape-json.js";
import { RequestPath } from "./capture/request-path.js";
import { createClients } from "./config/clients.js";
import { createMiddlewareMetrics, type MiddlewareMetrics } from "./config/metrics.js";
import type { ActorResult, Options } from "./config/options.js";
import { type Config, resolveOptions } from "./config/resolve.js";
import type { AsOptions, RecordInput } from "./record/input.js";
import { Recorder } from "./record/recorder.js";
import { closeOnce, closeOnSignals } from "./shutdown.js";

/** The middleware, plus the controls an app needs around it. */
export interface AuditqMiddleware extends RequestHandler {
  /** Resolves once every record captured so far has been handed to SQS (or dropped). */
  flush(): Promise<void>;
  /**
   * Stops capturing and drains the buffer (and the spool) within `closeTimeoutMs`; what could
   * not be sent stays in the spool for the next start. Idempotent: later calls get the same
   * promise and report.
   */
  close(): Promise<CloseReport>;
  /**
   * Opt-in: on SIGTERM or SIGINT (or the `signals` given), run `close()` first, then let the
   * signal take its default course (the process exits) unless the app has its own listener for
   * it. For apps without signal handling of their own. Returns a function that unhooks it.
   */
  closeOnSignals(signals?: readonly NodeJS.Signals[]): () => void;
  /** The prom-client registry holding auditq's metrics. */
  readonly registry: Registry;
  /**
   * Error middleware that records the error's message in `outcome.error` and passes the error
   * on unchanged: `app.use(audit.captureErrors)` before the app's own error handlers.
   */
  readonly captureErrors: ErrorRequestHandler;
  /**
   * Records an operation that is not a request (a job, a worker, a CLI) through the same
   * redaction, trimming, batcher, spool, durability and signing as captured records, with
   * `source: "record"` and no `request`; returns its `_id`. What the input leaves out (actor,
   * tenant, request id) comes from the context: {@link AuditqMiddleware.as}, or the request
   * whose handler started the work (then `causedBy` links to it). Throws a ConfigError on a
   * wrong input; never otherwise.
   */
  record(input: RecordInput): ObjectId;
  /**
   * Runs `fn` with `actor` as the actor of every {@link AuditqMiddleware.record} call inside
   * it, however deep in its async work; returns what `fn` returns. `options` adds a tenant and
   * the request that started the work. Nested calls override the enclosing context.
   */
  as<R>(actor: ActorResult, fn: () => R): R;
  as<R>(actor: ActorResult, options: AsOptions, fn: () => R): R;
}

export type { CloseReport };

/**
 * Creates the audit middleware: `app.use(auditq({ queueUrl }))`. Throws ConfigError on bad
 * options; after that, nothing it does can throw into, slow down or fail a request.
 */
export function auditq(options: Options): AuditqMiddleware {
  const config = resolveOptions(options);
  const { sqs, registry, release } = createClients(config);
  const metrics = createMiddlewareMetrics(registry);
  const batcher = new Batcher(batcherConfig(config, sqs, metrics));
  // The one way a record enters the batcher, captured or from record(): what every record
  // gets on the way (numbering, spool, durability, signing) is added here, once.
  const enter = (record: AuditRecord): void => {
    batcher.add(record, capturedRecordJson);
  };
  const path = new RequestPath(config, metrics, enter);
  const recorder = new Recorder(config, metrics, enter);
  const close = closeOnce(batcher, config.closeTimeoutMs, release);
  return Object.assign(path.handle, {
    flush: () => batcher.flush(),
    close,
    closeOnSignals: (signals?: readonly NodeJS.Signals[]) =>
      closeOnSignals(close, config.logger, signals),
    registry,
    captureErrors: path.captureErrors,
    record: recorder.record,
    as: recorder.as,
  });
}

/** The batcher's share of the Config, with room kept for the signature added at send. */
function batcherConfig(config: Config, sqs: SQSClient, metrics: MiddlewareMetrics): BatcherConfig {
  const signatureRoom = config.signingSecret === undefined ? 0 : SIGNATURE_ATTRIBUTE_BYTES;
  return {
    sqs,
    queueUrl: config.queueUrl,
    lingerMs: config.lingerMs,
    // A signature attribute is added at send: keep that much room in each message and call.
    maxMessageBytes: config.maxMessageBytes - signatureRoom,
    maxBatchBytes: config.maxMessageBytes - SQS_MAX_BATCH_ENTRIES * signatureRoom,
    maxBufferBytes: config.maxBufferBytes,
    maxInflight: config.maxInflight,
    retry: RETRY_POLICIES.sqsSend,
    logger: config.logger,
    metrics,
    onError: config.onError,
    compression: config.compression,
    binaryPayload: config.binaryPayload,
    sendTimeoutMs: config.sendTimeoutMs,
    spool: config.spool,
    durability: config.durability,
    signingSecret: config.signingSecret,
  };
}
