// The reader's public API (`auditq/reader`): createReader, its types, and its error.
export { AuditqError, ConfigError } from "../../shared/util/errors.js";
export type { AuditRecord } from "../../shared/wire/record.js";
export { CSV_COLUMNS, type ExportFormat } from "./export.js";
export type { ReadFilter, StatusClass } from "./filter.js";
export { DEFAULT_LIMIT, MAX_LIMIT } from "./page-limits.js";
export type { Order } from "./query.js";
export { QueryError } from "./query-error.js";
export {
  createReader,
  type ExportOptions,
  type FindOptions,
  type Page,
  type Reader,
  type ReaderOptions,
  type StreamOptions,
} from "./reader.js";
