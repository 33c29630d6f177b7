export {
  AuditqError,
  type AuditqErrorCode,
  ConfigError,
  DecodeError,
} from "../shared/errors.js";
export type { Logger } from "../shared/logger.js";
export type { AuditActor, AuditOutcome, AuditRecord, AuditRequest } from "../shared/record.js";
export { type AuditqMiddleware, auditq } from "./auditq.js";
export type { Options } from "./options.js";
