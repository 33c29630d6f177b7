import "./express-types.js";

export {
  AuditqError,
  type AuditqErrorCode,
  ConfigError,
  DecodeError,
} from "../shared/errors.js";
export type { Logger } from "../shared/logger.js";
export type {
  AuditActor,
  AuditOutcome,
  AuditRecord,
  AuditRequest,
  AuditService,
  AuditTarget,
} from "../shared/record.js";
export { type AuditqMiddleware, auditq, type CloseReport } from "./auditq.js";
export { AuditContext } from "./context.js";
export { HEALTH_CHECK_AGENTS, HEALTH_CHECK_PATHS, isHealthCheck } from "./health-check.js";
export type { ActorResult, Options, RedactOptions, SpoolOptions } from "./options.js";
export { DEFAULT_HEADERS } from "./options.js";
export { DEFAULT_CENSOR, DEFAULT_REDACT_HEADERS } from "./redact.js";
export { escapeKey, unescapeKey } from "./sanitize.js";
export {
  DEFAULT_REDACT_KEYS,
  type KeyMatcher,
  SECRET_KEY_NAMES,
  SECRET_KEY_PARTS,
  SECRET_KEY_WORDS,
} from "./secret-keys.js";
