// The metrics a FleetMembership updates, doing nothing: for tests that drive the lease code
// without a sidecar around it.
import type { SidecarMetrics } from "../../sidecar/config/metrics.js";

const quiet = { inc: () => undefined, set: () => undefined };

export const quietFleetMetrics = {
  errors: quiet,
  fleetInvalidLeases: quiet,
  fleetMembers: quiet,
  fleetBudget: quiet,
} as unknown as SidecarMetrics;
