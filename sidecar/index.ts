export { AuditqError, ConfigError, DecodeError } from "../shared/errors.js";
export type { Logger } from "../shared/logger.js";
export { DEFAULTS, type IndexKeys, type SidecarOptions } from "./options.js";
export { createSidecar, type Sidecar } from "./sidecar.js";
