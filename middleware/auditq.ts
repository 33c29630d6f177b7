// The Express middleware factory: capture each request once, hand the record to the batcher.

import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from "express";
import type { Registry } from "prom-client";
import { AuditqError } from "../shared/errors.js";
import { SIGNATURE_ATTRIBUTE_BYTES } from "../shared/signature.js";
import { SQS_MAX_BATCH_ENTRIES } from "../shared/sqs-limits.js";
import { Batcher, type CloseReport } from "./batcher.js";
import { buildRecord, createContext, startCapture } from "./capture.js";
import { createMiddlewareMetrics } from "./metrics.js";
import { isRead, type Options, resolveOptions } from "./options.js";
import { trackRoute } from "./route.js";

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

/**
 * Creates the audit middleware: `app.use(auditq({ queueUrl }))`. Throws ConfigError on bad
 * options; after that, nothing it does can throw into, slow down or fail a request.
 */
export function auditq(options: Options): AuditqMiddleware {
  const config = resolveOptions(options);
  const metrics = createMiddlewareMetrics(config.registry);
  const signatureRoom = config.signingSecret === undefined ? 0 : SIGNATURE_ATTRIBUTE_BYTES;
  const batcher = new Batcher({
    sqs: config.sqs,
    queueUrl: config.queueUrl,
    lingerMs: config.lingerMs,
    // A signature attribute is added at send: keep that much room in each message and call.
    maxMessageBytes: config.maxMessageBytes - signatureRoom,
    maxBatchBytes: config.maxMessageBytes - SQS_MAX_BATCH_ENTRIES * signatureRoom,
    maxBufferBytes: config.maxBufferBytes,
    maxInflight: config.maxInflight,
    retry: config.retry,
    logger: config.logger,
    metrics,
    onError: config.onError,
    compression: config.compression,
    sendTimeoutMs: config.sendTimeoutMs,
    spool: config.spool,
    signingSecret: config.signingSecret,
  });

  const report = (kind: string, cause: unknown) => {
    metrics.captureErrors.inc({ kind });
    try {
      config.onError(new AuditqError("ERR_AUDITQ_CAPTURE", `capture failed (${kind})`, { cause }));
    } catch (hookError) {
      config.logger.error({ err: hookError }, "auditq onError hook threw");
    }
  };
  const skipped = (reason: "method" | "sample" | "skip" | "app") => {
    metrics.recordsSkipped.inc({ reason });
  };

  const middleware = (req: Request, res: Response, next: NextFunction): void => {
    try {
      const start = startCapture();
      const ctx = createContext(start, req);
      req.audit = ctx;
      const method = req.method;
      if (config.methods !== null && !config.methods.has(method)) {
        skipped("method");
      } else if (config.sampleRate < 1 && isRead(method) && Math.random() >= config.sampleRate) {
        skipped("sample");
      } else {
        const seen = trackRoute(req);
        // One listener: a response emits "close" once, after "finish" when it completed and
        // alone when the connection went first (then `writableFinished` is false).
        const onEnd = () => {
          try {
            if (ctx.skipped) return skipped("app");
            if (config.skip !== null && wantsSkip(config.skip, req, res)) {
              return skipped("skip");
            }
            const aborted = !res.writableFinished;
            const built = buildRecord(
              config,
              start,
              ctx,
              seen,
              req,
              res,
              aborted,
              performance.now(),
              report,
            );
            if (built.trimmed.length > 0) metrics.recordsTrimmed.inc();
            metrics.recordsCaptured.inc();
            batcher.add(built.record);
          } catch (err) {
            report("build", err);
          }
        };
        res.on("close", onEnd);
      }
    } catch (err) {
      report("start", err);
    }
    next();
  };

  /** A `skip` that throws records the request anyway: auditing too much beats too little. */
  const wantsSkip = (
    skip: (req: Request, res: Response) => boolean,
    req: Request,
    res: Response,
  ): boolean => {
    try {
      return skip(req, res) === true;
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
    registry: config.registry,
    captureErrors,
  });
}
