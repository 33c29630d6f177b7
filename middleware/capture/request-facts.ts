// What capture knows of one request: the facts taken when it arrives, and everything read
// when its response ends, from which the full or the minimal record is built.
import { randomUUID } from "node:crypto";
import { ObjectId } from "bson";
import type { Request, Response } from "express";
import type { Config } from "../config/resolve.js";
import { AuditContext } from "./context.js";
import { field } from "./read.js";
import { requestIdOf } from "./request-id.js";
import type { RequestView } from "./request-view.js";
import type { RouteSeen } from "./route.js";

/** Facts taken when the request arrives; the rest is read when it ends. */
export interface RequestBegin {
  id: ObjectId;
  ts: Date;
  /** `performance.now()` when the request arrived. */
  beganAt: number;
}

/** The clock of `beganAt`, bound once rather than per request. */
const clock: () => number = performance.now.bind(performance);

/** The facts of a request that arrives now. */
export function beginCapture(now: () => number = clock): RequestBegin {
  return { id: new ObjectId(), ts: new Date(), beganAt: now() };
}

/**
 * One request as capture sees it when its response ends: what `buildRecord` and
 * `minimalRecord` build from.
 */
export interface RequestEnd {
  readonly config: Config;
  readonly begin: RequestBegin;
  readonly ctx: AuditContext;
  readonly seen: RouteSeen;
  readonly req: Request;
  readonly res: Response;
  /** The client went away before the response finished. */
  readonly aborted: boolean;
  /** `performance.now()` when the response ended. */
  readonly now: number;
  /** The request's method, URL and headers, read once. */
  readonly view: RequestView;
}

/** The `req.audit` of a request. */
export function createContext(begin: RequestBegin, req: Request): AuditContext {
  return new AuditContext(
    begin.id,
    // Not the `_id`: its hex would tell every client the process's ObjectId prefix and
    // counter, and so the `_id`s of records still to come.
    requestIdOf(field(req, "headers"), randomUUID),
  );
}
