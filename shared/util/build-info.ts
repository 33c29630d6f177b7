// auditq_build_info: which auditq and which Node each scraped process runs, on both sides.
import { Gauge, type Registry } from "prom-client";

// tsup replaces this at build time with the version in package.json (see tsup.config.ts and
// vitest.config.ts); code run from source by other means reports "dev".
declare const __AUDITQ_VERSION__: string | undefined;

/** The auditq version this code was built as. */
const AUDITQ_VERSION: string = typeof __AUDITQ_VERSION__ === "string" ? __AUDITQ_VERSION__ : "dev";

/**
 * Sets `auditq_build_info{component, version, node_version} 1` on `registry`. The gauge is
 * reused when another auditq instance (the other side, or a second middleware) already put it
 * on the same registry, so sharing one registry never fails with "already registered".
 */
export function registerBuildInfo(registry: Registry, component: "middleware" | "sidecar"): void {
  const name = "auditq_build_info";
  const gauge =
    (registry.getSingleMetric(name) as
      | Gauge<"component" | "version" | "node_version">
      | undefined) ??
    new Gauge({
      name,
      help: "Always 1; its labels name the auditq component, its version and the Node.js version.",
      labelNames: ["component", "version", "node_version"] as const,
      registers: [registry],
    });
  gauge.set({ component, version: AUDITQ_VERSION, node_version: process.versions.node }, 1);
}
