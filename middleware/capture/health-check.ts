// The default `skip`: health checks and metric scrapes are not user operations.
import type { Request } from "express";
import { RequestView } from "./request-view.js";

/** Paths whose GET and HEAD requests the default `skip` leaves out (compared lowercase). */
export const HEALTH_CHECK_PATHS: readonly string[] = Object.freeze([
  "/health",
  "/healthz",
  "/healthcheck",
  "/health-check",
  "/livez",
  "/readyz",
  "/live",
  "/ready",
  "/liveness",
  "/readiness",
  "/ping",
  "/metrics",
]);

/** User agents of probes and scrapers whose GET and HEAD requests the default `skip` leaves out. */
export const HEALTH_CHECK_AGENTS: readonly string[] = Object.freeze([
  "kube-probe/",
  "Prometheus/",
  "ELB-HealthChecker/",
  "GoogleHC/",
  "Consul Health Check",
]);

const PATHS = new Set(HEALTH_CHECK_PATHS);

/**
 * The default `skip`: true for a GET or HEAD on one of {@link HEALTH_CHECK_PATHS} (a trailing
 * slash allowed), or from one of {@link HEALTH_CHECK_AGENTS}. Pass `skip: () => false` to record
 * them anyway, or combine: `skip: (req, res) => isHealthCheck(req) || mine(req, res)`.
 */
export function isHealthCheck(req: Request): boolean {
  return isHealthCheckView(new RequestView(req));
}

/** {@link isHealthCheck} on the fields capture already read: the default `skip` at finish. */
export function isHealthCheckView(view: RequestView): boolean {
  if (view.method !== "GET" && view.method !== "HEAD") return false;
  let path = view.path.toLowerCase();
  if (path.length > 1 && path.endsWith("/")) path = path.slice(0, -1);
  if (PATHS.has(path)) return true;
  const agent = view.firstHeader("user-agent");
  return agent !== undefined && HEALTH_CHECK_AGENTS.some((prefix) => agent.startsWith(prefix));
}
