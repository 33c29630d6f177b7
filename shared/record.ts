// The audit record: one user operation, as stored in MongoDB (one document per record).
import type { ObjectId } from "bson";

/** Version of the record schema, stored in each record as `v`. */
export const RECORD_VERSION = 1;

/** Who did it. */
export interface AuditActor {
  /** The user's id, or `null` for anonymous requests. */
  id: string | null;
  type?: string;
  ip?: string;
  userAgent?: string;
}

/** What the request looked like. */
export interface AuditRequest {
  method: string;
  /** The path the client asked for, without the query string. */
  path: string;
  /** The route template that matched (`/orders/:id`), or `null` when no route matched. */
  route: string | null;
  query?: Record<string, unknown>;
  params?: Record<string, unknown>;
  requestId?: string;
  headers?: Record<string, unknown>;
  body?: unknown;
}

/** How it ended. */
export interface AuditOutcome {
  status: number;
  durationMs: number;
  /** The client went away before the response finished. */
  aborted?: boolean;
  error?: string;
}

/** One user operation. `_id` is made at capture time and is the deduplication key end to end. */
export interface AuditRecord {
  _id: ObjectId;
  v: number;
  /** When the request started. */
  ts: Date;
  actor: AuditActor;
  /** What was done: `"POST /orders/:id"` by default, or a name the app gives. */
  action: string;
  target?: { type: string; id: string };
  request: AuditRequest;
  outcome: AuditOutcome;
  service?: { name?: string; version?: string; host?: string; pid?: number };
  meta?: Record<string, unknown>;
}
