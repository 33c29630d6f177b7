// The error a reader throws for a bad filter, option or cursor: the caller's mistake (HTTP 400).
import { AuditqError } from "../../shared/util/errors.js";

/**
 * A filter, find option or cursor the reader refuses: an unknown field, a value of the wrong
 * type or size, an operator where a literal is expected, a cursor that is malformed or belongs
 * to another filter or tenant. Its message says which field and what was expected; it never
 * echoes the refused value. A web layer answers it with 400.
 */
export class QueryError extends AuditqError {
  override name = "QueryError";
  /** The filter field or option at fault (`actor`, `target.id`, `limit`, `after`). */
  readonly field: string;
  constructor(field: string, message: string) {
    super("ERR_AUDITQ_QUERY", `${field}: ${message}`);
    this.field = field;
  }
}
