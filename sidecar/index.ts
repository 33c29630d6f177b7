export { AuditqError, ConfigError, DecodeError } from "../shared/errors.js";
export type { Logger } from "../shared/logger.js";
export { createSidecar, type Sidecar, type SidecarOptions } from "./sidecar.js";
