// The sidecar's public API: createSidecar, its options and defaults, legal holds, and the error types.
export { AuditqError, ConfigError, DecodeError } from "../shared/util/errors.js";
export type { Logger } from "../shared/util/logger.js";
export type { IndexKeys, SidecarOptions } from "./config/options.js";
export { DEFAULTS } from "./config/resolve.js";
export { createHolds, type Hold, type HoldInput, type Holds } from "./retention/holds.js";
export { createSidecar, type Sidecar } from "./sidecar.js";
