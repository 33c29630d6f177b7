// The Express middleware factory: capture each request once, hand the record to the batcher.

import type { Document } from "bson";
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from "express";
import type { Registry } from "prom-client";
import { RETRY_POLICIES } from "../shared/util/backoff.js";
import { AuditqError } from "../shared/util/errors.js";
import { callHook } from "../shared/util/hooks.js";
import type { AuditRecord } from "../shared/wire/record.js";
import { SIGNATURE_ATTRIBUTE_BYTES } from "../shared/wire/signature.js";
import { SQS_MAX_BATCH_ENTRIES } from "../shared/wire/sqs-limits.js";
import { Batcher, type CloseReport } from "./batcher/batcher.js";
import { buildRecord } from "./capture/build.js";
import { capturedRecordJson } from "./capture/captured-json.js";
import { type AuditContext, isAuditContext } from "./capture/context.js";
import { isHealthCheck, isHealthCheckView } from "./capture/health-check.js";
import { minimalRecord } from "./capture/minimal-record.js";
import { asText, field } from "./capture/read.js";
import {
  createContext,
  type RequestEnd,
  type RequestStart,
  startCapture,
} from "./capture/request-facts.js";
import { RequestView } from "./capture/request-view.js";
import { type RouteSeen, trackRoute } from "./capture/route.js";
import { createClients } from "./config/clients.js";
import {
  type CaptureErrorKind,
  createMiddlewareMetrics,
  type SkipReason,
} from "./config/metrics.js";
import type { Options } from "./config/options.js";
import { isRead, resolveOptions } from "./config/resolve.js";

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
}

export type { CloseReport };

const PENDING = Symbol("auditq.pending");
const toJson = capturedRecordJson as (record: Document) => string;
type PendingSlot = Response & { [PENDING]?: PendingCapture };

/** What one request's record is built from when its response ends. */
class PendingCapture {
  done = false;
  constructor(
    readonly start: RequestStart,
    readonly ctx: AuditContext,
    readonly seen: RouteSeen,
    readonly req: Request,
  ) {}
}

/**
 * Creates the audit middleware: `app.use(auditq({ queueUrl }))`. Throws ConfigError on bad
 * options; after that, nothing it does can throw into, slow down or fail a request.
 */
export function auditq(options: Options): AuditqMiddleware {
  const config = resolveOptions(options);
  const { sqs, registry } = createClients(config);
  const metrics = createMiddlewareMetrics(registry);
  const signatureRoom = config.signingSecret === undefined ? 0 : SIGNATURE_ATTRIBUTE_BYTES;
  const batcher = new Batcher({
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
  });

  const report = (kind: CaptureErrorKind, cause: unknown) => {
    metrics.captureErrors.inc({ kind });
    const err = new AuditqError("ERR_AUDITQ_CAPTURE", `capture failed (${kind})`, { cause });
    callHook(config.onError, err, config.logger, "onError");
  };
  const skipped = (reason: SkipReason) => {
    metrics.recordsSkipped.inc({ reason });
  };

  let warnedNested = false;
  /**
   * Whether another auditq middleware mounted earlier owns this request: that one records it,
   * so a second record, or a second req.audit the app's calls would miss, is never made.
   */
  const ownedByAnother = (req: Request): boolean => {
    if (!isAuditContext(field(req, "audit"))) return false;
    skipped("nested");
    if (!warnedNested) {
      warnedNested = true;
      try {
        config.logger.warn(
          { queueUrl: config.queueUrl },
          "auditq: a request reached a second auditq middleware; the first one records it and this one passes it on (logged once)",
        );
      } catch (err) {
        report("log", err);
      }
    }
    return true;
  };
  /** Builds and queues the record of a request once its response has ended (once). */
  const settle = (p: PendingCapture, res: Response): void => {
    if (p.done) return;
    p.done = true;
    try {
      if (p.ctx.skipped) {
        skipped("app");
        return;
      }
      const view = new RequestView(p.req);
      if (wantsSkip(view, p.req, res)) skipped("skip");
      else batcher.add(recordOf(p, res, view), toJson);
    } catch (err) {
      report("build", err);
    }
  };
  // A function, not an arrow: the response emitting the event is `this`.
  const onResponseEnd = function (this: Response): void {
    const p = (this as PendingSlot)[PENDING];
    if (p !== undefined) settle(p, this);
  };
  const middleware = (req: Request, res: Response, next: NextFunction): void => {
    if (ownedByAnother(req)) {
      next();
      return;
    }
    try {
      const start = startCapture();
      const ctx = createContext(start, req);
      try {
        req.audit = ctx;
      } catch (err) {
        // A frozen or sealed request: the app cannot reach req.audit, the record is still made.
        report("context", err);
      }
      const method = asText(field(req, "method"));
      if (config.methods !== null && (method === undefined || !config.methods.has(method))) {
        skipped("method");
      } else if (
        config.sampleRate < 1 &&
        method !== undefined &&
        isRead(method) &&
        Math.random() >= config.sampleRate
      ) {
        skipped("sample");
      } else {
        let seen: RouteSeen;
        try {
          seen = trackRoute(req);
        } catch (err) {
          // Accessors cannot go on a frozen request; the route is then read at finish.
          report("route", err);
          seen = { template: null, params: undefined };
        }
        // "finish" when the response completed, "close" alone when the connection went first
        // ("close" also follows "finish", a tick later: too late to be the only trigger, since
        // close() may have begun by then). One listener shared by every response, its state
        // on the response: no closure (and no `once` wrapper) per request.
        const pending = new PendingCapture(start, ctx, seen, req);
        try {
          (res as PendingSlot)[PENDING] = pending;
          res.on("finish", onResponseEnd);
          res.on("close", onResponseEnd);
        } catch {
          // A frozen response takes no state: this request gets a listener of its own.
          const onEnd = () => settle(pending, res);
          res.on("finish", onEnd);
          res.on("close", onEnd);
        }
      }
    } catch (err) {
      report("start", err);
    }
    next();
  };

  /** The full record, or a minimal one when building it fails: never none. */
  const recordOf = (p: PendingCapture, res: Response, view: RequestView): AuditRecord => {
    const end: RequestEnd = {
      config,
      start: p.start,
      ctx: p.ctx,
      seen: p.seen,
      req: p.req,
      res,
      aborted: field(res, "writableFinished") !== true,
      now: performance.now(),
      view,
    };
    let record: AuditRecord;
    try {
      const built = buildRecord(end, report);
      if (built.trimmed.length > 0) metrics.recordsTrimmed.inc();
      record = built.record;
    } catch (err) {
      report("build", err);
      metrics.recordsMinimal.inc();
      record = minimalRecord(end, err);
    }
    metrics.recordsCaptured.inc();
    return record;
  };

  /** A `skip` that throws records the request anyway: auditing too much beats too little. */
  const wantsSkip = (view: RequestView, req: Request, res: Response): boolean => {
    try {
      // The default skip looks at the fields already read rather than reading them again.
      if (config.skip === isHealthCheck) return isHealthCheckView(view);
      return config.skip(req, res) === true;
    } catch (err) {
      report("skip", err);
      return false;
    }
  };

  const captureErrors: ErrorRequestHandler = (err, req, _res, next) => {
    try {
      (req as Partial<Request>).audit?.error(err);
    } catch (hookError) {
      report("error", hookError);
    }
    next(err);
  };

  let closing: Promise<CloseReport> | undefined;
  const close = () => {
    closing ??= batcher.close(config.closeTimeoutMs);
    return closing;
  };
  const closeOnSignals = (signals: readonly NodeJS.Signals[] = ["SIGTERM", "SIGINT"]) => {
    const unhook = () => {
      for (const signal of signals) process.off(signal, onSignal);
    };
    const onSignal = (signal: NodeJS.Signals) => {
      unhook();
      void close()
        .catch((err) => config.logger.error({ err }, "auditq close() failed"))
        .finally(() => {
          // Re-raise for the default action (exit), unless the app handles the signal itself.
          if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
        });
    };
    for (const signal of signals) process.on(signal, onSignal);
    return unhook;
  };
  return Object.assign(middleware, {
    flush: () => batcher.flush(),
    close,
    closeOnSignals,
    registry,
    captureErrors,
  });
}
