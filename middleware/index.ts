// The package entry: auditq(), its types, and the defaults and helpers an app may build on.
import "./capture/express-types.js";

export {
  AuditqError,
  type AuditqErrorCode,
  ConfigError,
  DecodeError,
} from "../shared/util/errors.js";
export type { Logger } from "../shared/util/logger.js";
export type {
  AuditActor,
  AuditChange,
  AuditOutcome,
  AuditRecord,
  AuditRequest,
  AuditService,
  AuditTarget,
} from "../shared/wire/record.js";
export { type AuditqMiddleware, auditq, type CloseReport } from "./auditq.js";
export { AuditContext } from "./capture/context.js";
export { HEALTH_CHECK_AGENTS, HEALTH_CHECK_PATHS, isHealthCheck } from "./capture/health-check.js";
export { DEFAULT_CENSOR, DEFAULT_REDACT_HEADERS } from "./capture/redact/censor.js";
export {
  DEFAULT_REDACT_KEYS,
  type KeyMatcher,
  SECRET_KEY_NAMES,
  SECRET_KEY_PARTS,
  SECRET_KEY_WORDS,
} from "./capture/redact/secret-keys.js";
export { escapeKey, unescapeKey } from "./capture/sanitize.js";
export { DEFAULT_HEADERS } from "./config/option-table.js";
export type { ActorResult, Options, RedactOptions, SpoolOptions } from "./config/options.js";
export type { AsOptions, RecordInput, RecordOutcome } from "./record/input.js";
