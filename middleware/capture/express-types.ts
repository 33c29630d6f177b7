// Declares `req.audit` on Express's Request, for Express 4 and 5 typings alike.
import type { AuditContext } from "./context.js";

declare global {
  // Express's typings are merged through this global namespace.
  namespace Express {
    interface Request {
      /** The audit context auditq attaches to every request it sees. */
      audit: AuditContext;
    }
  }
}
