// Builds the audit record of one request from what Express knows when the response ends.
import { ObjectId } from "bson";
import type { Request, Response } from "express";
import { type AuditRecord, RECORD_VERSION } from "../shared/record.js";
import type { Config } from "./options.js";

/** Facts taken when the request arrives; the rest is read when it ends. */
export interface RequestStart {
  id: ObjectId;
  ts: Date;
  startedAt: number;
}

export function startCapture(now: () => number = performance.now.bind(performance)): RequestStart {
  return { id: new ObjectId(), ts: new Date(), startedAt: now() };
}

/** Path of the request as the client sent it, without the query string. */
function requestPath(req: Request): string {
  const url = req.originalUrl ?? req.url ?? "/";
  const q = url.indexOf("?");
  return q === -1 ? url : url.slice(0, q);
}

/** The matched route template, e.g. `/orders/:id` under a router mounted at `/orders`. */
function routeTemplate(req: Request): string | null {
  const path: unknown = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof path !== "string") return null;
  return `${req.baseUrl ?? ""}${path}`;
}

export function buildRecord(
  config: Config,
  start: RequestStart,
  req: Request,
  res: Response,
  aborted: boolean,
  now: number,
): AuditRecord {
  const method = req.method;
  const path = requestPath(req);
  const route = routeTemplate(req);
  const actorId = config.actor(req, res);
  return {
    _id: start.id,
    v: RECORD_VERSION,
    ts: start.ts,
    actor: { id: actorId === undefined || actorId === null ? null : String(actorId) },
    action: `${method} ${route ?? path}`,
    request: { method, path, route },
    outcome: {
      status: aborted ? 499 : res.statusCode,
      durationMs: Math.round((now - start.startedAt) * 1000) / 1000,
      ...(aborted ? { aborted: true } : {}),
    },
  };
}
