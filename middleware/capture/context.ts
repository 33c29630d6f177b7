// `req.audit`: what the app can add to the record of the request it is handling.
import type { ObjectId } from "bson";
import { type ChangePair, snapshot } from "./changes.js";

/**
 * Marks an AuditContext across copies of auditq (a registered symbol), so a second middleware
 * on the same request knows a first one already owns it.
 */
const CONTEXT_BRAND: symbol = Symbol.for("auditq.context");

/** Whether `value` is the `req.audit` of some auditq middleware, this copy or another. */
export function isAuditContext(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  try {
    return (value as Record<symbol, unknown>)[CONTEXT_BRAND] === true;
  } catch {
    // A Proxy the app put on req.audit that throws: not ours.
    return false;
  }
}

/**
 * The audit context of one request, as `req.audit`. Everything set here is read once, when the
 * response ends; calls are cheap (they keep references; `change()` copies its two values) and
 * never throw.
 */
export class AuditContext {
  /** The record's `_id`, fixed when the request arrived. */
  readonly id: ObjectId;
  /** The request id the record carries (`x-request-id`, `traceparent`, or a random UUID). */
  readonly requestId: string;
  // What the app told the context, read by capture when the response ends. `@internal`: the
  // build strips these from the published .d.ts (stripInternal), so they are no public API.
  /** @internal */ metaParts: object[] | undefined = undefined;
  /** @internal */ actionName: string | undefined = undefined;
  /** @internal */ targetValue: { type: string; id: string } | undefined = undefined;
  /** @internal */ skipped = false;
  /** @internal */ errorValue: unknown = undefined;
  /** @internal */ hasError = false;
  /** @internal */ changePairs: ChangePair[] | undefined = undefined;

  constructor(id: ObjectId, requestId: string) {
    this.id = id;
    this.requestId = requestId;
  }

  /** Adds fields to the record's `meta`; later calls win on the same key. */
  set(fields: Record<string, unknown>): this {
    if (typeof fields !== "object" || fields === null) return this;
    if (this.metaParts === undefined) this.metaParts = [fields];
    else this.metaParts.push(fields);
    return this;
  }

  /** Names the operation (`"order.update"`) instead of `"METHOD /route"`. */
  action(name: string): this {
    if (typeof name === "string" && name !== "") this.actionName = name;
    return this;
  }

  /** What the operation was about: `req.audit.target("order", order.id)`. */
  target(type: string, id: string | number | { toString(): string }): this {
    if (typeof type === "string" && id !== undefined && id !== null) {
      try {
        this.targetValue = { type, id: String(id) };
      } catch {
        // An id whose toString throws: calls on req.audit never throw into the app.
        this.targetValue = { type, id: "[auditq: unreadable]" };
      }
    }
    return this;
  }

  /** Records the error the app handled, as `outcome.error` (its message; never sent anywhere else). */
  error(err: unknown): this {
    this.errorValue = err;
    this.hasError = true;
    return this;
  }

  /**
   * Records what changed from `before` to `after` as `changes`: a list of
   * `{ path, op, from?, to? }` (JSON Pointer paths, ops `add`, `remove`, `replace`), worked out
   * when the response ends and redacted like the rest of the record (a changed password shows
   * as changed, without its values). Both values are copied now, as JSON sees them: changing
   * them after the call changes nothing. Several calls add their changes in call order.
   */
  change(before: unknown, after: unknown): this {
    const pair = { before: snapshot(before), after: snapshot(after) };
    if (this.changePairs === undefined) this.changePairs = [pair];
    else this.changePairs.push(pair);
    return this;
  }

  /** Leaves this request out of the audit trail (counted as skipped). */
  skip(): this {
    this.skipped = true;
    return this;
  }
}

// On the prototype, once: a property defined on each context made every request pay for a
// defineProperty and a shape of its own. Not a declared member: the ESM and CommonJS type
// declarations must stay identical.
Object.defineProperty(AuditContext.prototype, CONTEXT_BRAND, { value: true });
