// The audit record: one user operation, as stored in MongoDB (one document per record).
import type { ObjectId } from "bson";

/** Version of the record schema, stored in each record as `v`. */
export const RECORD_VERSION = 1;

/** Who did it. */
export interface AuditActor {
  /** The user's id, or `null` for anonymous requests. */
  id: string | null;
  /** The kind of actor (`"user"`, `"service"`, …) when the `actor` option names one. */
  type?: string;
  /** `req.ip`: the client address, as Express's `trust proxy` setting resolves it. */
  ip?: string;
  userAgent?: string;
}

/** What the request looked like. Object keys are escaped for MongoDB (see `unescapeKey`). */
export interface AuditRequest {
  method: string;
  /** The path the client asked for, without the query string (redacted params censored). */
  path: string;
  /** The route template that matched (`/orders/:id`), or `null` when no route matched. */
  route: string | null;
  query?: Record<string, unknown>;
  params?: Record<string, unknown>;
  /** `x-request-id` or the trace id of `traceparent` when sent, else a random UUID. */
  requestId: string;
  /** Request headers on the `headers` allow-list, redacted ones censored. */
  headers?: Record<string, unknown>;
  /** What body parsers left on `req.body`, when `captureBody` is on; capped by `maxBodyBytes`. */
  body?: unknown;
}

/** How it ended. */
export interface AuditOutcome {
  /** The response status; 499 when the client went away first. */
  status: number;
  durationMs: number;
  /** The client went away before the response finished. */
  aborted?: boolean;
  /** Message of the error the app's error handling saw (`audit.captureErrors`, `req.audit.error`). */
  error?: string;
  /** Its stack, only with `captureErrorStack: true`. */
  errorStack?: string;
}

/** The process that captured the record. */
export interface AuditService {
  name?: string;
  version?: string;
  host: string;
  pid: number;
}

/** What the app says the operation was about. */
export interface AuditTarget {
  type: string;
  id: string;
}

/** A record's place in its producer's stream (docs/design/schema-and-bins.md). */
export interface AuditSeq {
  /** The stream's id: 22 characters, base64url of 16 random bytes. */
  stream: string;
  /** 1, 2, 3, … with no holes, given at capture before any decision to drop. */
  n: number;
}

/** One path that `req.audit.change(before, after)` found changed. */
export interface AuditChange {
  /** JSON-Pointer-like path: `/address/city`. */
  path: string;
  op: "add" | "remove" | "replace";
  /** The old value; absent when the path is redacted. */
  from?: unknown;
  /** The new value; absent when the path is redacted. */
  to?: unknown;
}

/** One user operation. `_id` is made at capture time and is the deduplication key end to end. */
export interface AuditRecord {
  _id: ObjectId;
  v: number;
  /** Where it came from: a captured request, or `audit.record()`. Absent on version 1: `"http"`. */
  source?: "http" | "record";
  /** Its number in the producer's stream; absent on records of producers before version 2. */
  seq?: AuditSeq;
  /** The tenant, from the `tenant` option, `audit.record({ tenant })` or `audit.as()`. */
  tenant?: string;
  /** The request whose handler started this background work (`audit.as()` inside a request). */
  causedBy?: { requestId: string; id?: ObjectId };
  /** What `req.audit.change(before, after)` found changed; redacted paths keep only `op`. */
  changes?: AuditChange[];
  /** When the request started, or when `audit.record()` was called. */
  ts: Date;
  actor: AuditActor;
  /** What was done: `"POST /orders/:id"` by default, or a name the app gives. */
  action: string;
  target?: AuditTarget;
  /** The captured request; absent when `source` is `"record"`. */
  request?: AuditRequest;
  /** How it ended; optional when `source` is `"record"`. */
  outcome?: AuditOutcome;
  service: AuditService;
  /** Fields the app added with `req.audit.set({...})`. */
  meta?: Record<string, unknown>;
  /** Fields replaced by a marker to keep the record within `maxRecordBytes`, largest first. */
  trimmed?: string[];
  /**
   * Set on a minimal record: building the full record failed (a bug in auditq), so only `_id`,
   * `ts`, the method, path, status and this message were kept.
   */
  captureError?: string;
}
