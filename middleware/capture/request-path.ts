// Capture's per-request path: it begins when the request arrives, builds the record when the
// response ends and hands it on; a failure inside is counted and reported, never thrown.
import type { ErrorRequestHandler, NextFunction, Request, Response } from "express";
import { AuditqError } from "../../shared/util/errors.js";
import { callHook } from "../../shared/util/hooks.js";
import type { AuditRecord } from "../../shared/wire/record.js";
import type { CaptureErrorKind, MiddlewareMetrics, SkipReason } from "../config/metrics.js";
import type { Config } from "../config/resolve.js";
import { RequestScope, runInScope } from "../record/scope.js";
import { buildRecord, readTenant } from "./build.js";
import { type AuditContext, isAuditContext } from "./context.js";
import { isHealthCheck, isHealthCheckView } from "./health-check.js";
import { minimalRecord } from "./minimal-record.js";
import { asText, field } from "./read.js";
import {
  beginCapture,
  createContext,
  type RequestBegin,
  type RequestEnd,
} from "./request-facts.js";
import { RequestView } from "./request-view.js";
import { type RouteSeen, trackRoute } from "./route.js";

const PENDING = Symbol("auditq.pending");
type PendingSlot = Response & { [PENDING]?: PendingCapture };

/** What one request's record is built from when its response ends. */
class PendingCapture {
  ended = false;
  constructor(
    readonly begin: RequestBegin,
    readonly ctx: AuditContext,
    readonly seen: RouteSeen,
    readonly req: Request,
    readonly scope: RequestScope,
  ) {}
}

const READS = new Set(["GET", "HEAD", "OPTIONS"]);

/** The label of every record counted here, made once rather than per record. */
const HTTP_SOURCE = Object.freeze({ source: "http" as const });

/** Whether `method` is a read, the only kind `sampleRate` thins out. */
function isRead(method: string): boolean {
  return READS.has(method);
}

/** The request path of one middleware; `sink` takes each record it builds. */
export class RequestPath {
  private readonly config: Config;
  private readonly metrics: MiddlewareMetrics;
  private readonly sink: (record: AuditRecord) => void;
  private warnedNested = false;
  /**
   * The "finish" and "close" listener of every response of this middleware. One listener
   * shared by them all, its state on the response: no closure (and no `once` wrapper) per
   * request.
   */
  private readonly onResponseEnd: (this: Response) => void;

  constructor(config: Config, metrics: MiddlewareMetrics, sink: (record: AuditRecord) => void) {
    this.config = config;
    this.metrics = metrics;
    this.sink = sink;
    const path = this;
    // A function, not an arrow: the response emitting the event is `this`.
    this.onResponseEnd = function (this: Response): void {
      const p = (this as PendingSlot)[PENDING];
      if (p !== undefined) path.endCapture(p, this);
    };
  }

  /** The middleware: begins capturing the request, then passes it on at once. */
  readonly handle = (req: Request, res: Response, next: NextFunction): void => {
    let scope: RequestScope | undefined;
    if (!this.ownedByAnother(req)) {
      try {
        scope = this.capture(req, res);
      } catch (err) {
        this.report("start", err);
      }
    }
    // The rest of the request runs in its scope: `audit.record()` in the work its handler
    // starts takes the request's actor and links to it (`causedBy`).
    if (scope === undefined) next();
    else runInScope(scope, next);
  };

  /**
   * Error middleware: records the error's message in `outcome.error` and passes the error on.
   */
  readonly captureErrors: ErrorRequestHandler = (err, req, _res, next) => {
    try {
      (req as Partial<Request>).audit?.error(err);
    } catch (hookError) {
      this.report("error", hookError);
    }
    next(err);
  };

  /** The request's tenant for the work its handler starts, read as its record reads it. */
  private readonly tenantOf = (req: Request, res: Response): string | undefined =>
    readTenant(this.config.tenant, req, res, this.report);

  /** Counts and reports a failure inside capture; the request itself is unaffected. */
  private readonly report = (kind: CaptureErrorKind, cause: unknown): void => {
    this.metrics.captureErrors.inc({ kind });
    const err = new AuditqError("ERR_AUDITQ_CAPTURE", `capture failed (${kind})`, { cause });
    callHook(this.config.onError, err, this.config.logger, "onError");
  };

  private skipped(reason: SkipReason): void {
    this.metrics.recordsSkipped.inc({ reason });
  }

  /**
   * Whether another auditq middleware mounted earlier owns this request: that one records it,
   * so a second record, or a second req.audit the app's calls would miss, is never made.
   */
  private ownedByAnother(req: Request): boolean {
    if (!isAuditContext(field(req, "audit"))) return false;
    this.skipped("nested");
    if (!this.warnedNested) {
      this.warnedNested = true;
      try {
        this.config.logger.warn(
          { queueUrl: this.config.queueUrl },
          "auditq: a request reached a second auditq middleware; the first one records it and this one passes it on (logged once)",
        );
      } catch (err) {
        this.report("log", err);
      }
    }
    return true;
  }

  /**
   * Gives the request its `req.audit` and, unless it is left out, awaits its response's end.
   * Returns the scope its handler runs in; `causedBy.id` only when the request is recorded.
   */
  private capture(req: Request, res: Response): RequestScope {
    const begin = beginCapture();
    const ctx = createContext(begin, req);
    try {
      req.audit = ctx;
    } catch (err) {
      // A frozen or sealed request: the app cannot reach req.audit, the record is still made.
      this.report("context", err);
    }
    const leftOut = this.leftOutOnArrival(req);
    if (leftOut !== undefined) {
      this.skipped(leftOut);
      return new RequestScope(this.config.actor, this.tenantOf, req, res, ctx.requestId, undefined);
    }
    const scope = new RequestScope(
      this.config.actor,
      this.tenantOf,
      req,
      res,
      ctx.requestId,
      ctx.id,
    );
    this.awaitEnd(res, new PendingCapture(begin, ctx, this.routeOf(req), req, scope));
    return scope;
  }

  /** `methods` and `sampleRate` decide when the request arrives; the rest when it ends. */
  private leftOutOnArrival(req: Request): SkipReason | undefined {
    const { methods, sampleRate } = this.config;
    const method = asText(field(req, "method"));
    if (methods !== null && (method === undefined || !methods.has(method))) return "method";
    if (sampleRate < 1 && method !== undefined && isRead(method) && Math.random() >= sampleRate) {
      return "sample";
    }
    return undefined;
  }

  /** Follows the route Express matches; on a frozen request, the route is read at finish. */
  private routeOf(req: Request): RouteSeen {
    try {
      return trackRoute(req);
    } catch (err) {
      // Accessors cannot go on a frozen request; the route is then read at finish.
      this.report("route", err);
      return { template: null, params: undefined };
    }
  }

  /**
   * "finish" when the response completed, "close" alone when the connection went first
   * ("close" also follows "finish", a tick later: too late to be the only trigger, since
   * close() may have begun by then).
   */
  private awaitEnd(res: Response, pending: PendingCapture): void {
    try {
      (res as PendingSlot)[PENDING] = pending;
      res.on("finish", this.onResponseEnd);
      res.on("close", this.onResponseEnd);
    } catch {
      // A frozen response takes no state: this request gets a listener of its own.
      const onEnd = () => this.endCapture(pending, res);
      res.on("finish", onEnd);
      res.on("close", onEnd);
    }
  }

  /** Builds the record of a request once its response has ended (once) and hands it on. */
  private endCapture(p: PendingCapture, res: Response): void {
    if (p.ended) return;
    p.ended = true;
    try {
      if (p.ctx.skipped) {
        this.skipped("app");
        return;
      }
      const view = new RequestView(p.req);
      if (this.wantsSkip(view, p.req, res)) this.skipped("skip");
      else {
        const record = this.recordOf(p, res, view);
        // Work the handler started and that outlives the response takes the record's actor,
        // and no longer holds the request and response.
        if (record.captureError === undefined) p.scope.settle(record.actor, record.tenant);
        this.sink(record);
      }
    } catch (err) {
      this.report("build", err);
    }
  }

  /** The record of a request whose response ended, counted as captured. */
  private recordOf(p: PendingCapture, res: Response, view: RequestView): AuditRecord {
    const record = this.build({
      config: this.config,
      begin: p.begin,
      ctx: p.ctx,
      seen: p.seen,
      req: p.req,
      res,
      aborted: field(res, "writableFinished") !== true,
      now: performance.now(),
      view,
    });
    this.metrics.recordsCaptured.inc(HTTP_SOURCE);
    return record;
  }

  /** The full record, or a minimal one when building it fails: never none. */
  private build(end: RequestEnd): AuditRecord {
    try {
      const built = buildRecord(end, this.report);
      if (built.trimmed.length > 0) this.metrics.recordsTrimmed.inc(HTTP_SOURCE);
      return built.record;
    } catch (err) {
      this.report("build", err);
      this.metrics.recordsMinimal.inc();
      return minimalRecord(end, err);
    }
  }

  /** A `skip` that throws records the request anyway: auditing too much beats too little. */
  private wantsSkip(view: RequestView, req: Request, res: Response): boolean {
    try {
      // The default skip looks at the fields already read rather than reading them again.
      if (this.config.skip === isHealthCheck) return isHealthCheckView(view);
      return this.config.skip(req, res) === true;
    } catch (err) {
      this.report("skip", err);
      return false;
    }
  }
}
