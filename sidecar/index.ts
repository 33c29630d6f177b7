export { AuditqError, ConfigError, DecodeError } from "../shared/util/errors.js";
export type { Logger } from "../shared/util/logger.js";
export { DEFAULTS, type IndexKeys, type SidecarOptions } from "./config/options.js";
export { createSidecar, type Sidecar } from "./sidecar.js";
