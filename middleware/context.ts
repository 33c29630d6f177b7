// `req.audit`: what the app can add to the record of the request it is handling.
import type { ObjectId } from "bson";

/** What the app told the context; read once, when the response ends. */
export interface ContextState {
  metaParts: object[] | undefined;
  actionName: string | undefined;
  targetValue: { type: string; id: string } | undefined;
  skipped: boolean;
  errorValue: unknown;
  hasError: boolean;
}

let stateOf: (ctx: AuditContext) => ContextState;

/**
 * The audit context of one request, as `req.audit`. Everything set here is read once, when the
 * response ends; calls are cheap (they only keep references) and never throw.
 */
export class AuditContext {
  /** The record's `_id`, fixed when the request arrived. */
  readonly id: ObjectId;
  /** The request id the record carries (`x-request-id`, `traceparent`, or `id` as hex). */
  readonly requestId: string;
  readonly #state: ContextState = {
    metaParts: undefined,
    actionName: undefined,
    targetValue: undefined,
    skipped: false,
    errorValue: undefined,
    hasError: false,
  };

  static {
    stateOf = (ctx) => ctx.#state;
  }

  constructor(id: ObjectId, requestId: string) {
    this.id = id;
    this.requestId = requestId;
  }

  /** Adds fields to the record's `meta`; later calls win on the same key. */
  set(fields: Record<string, unknown>): this {
    if (typeof fields !== "object" || fields === null) return this;
    if (this.#state.metaParts === undefined) this.#state.metaParts = [fields];
    else this.#state.metaParts.push(fields);
    return this;
  }

  /** Names the operation (`"order.update"`) instead of `"METHOD /route"`. */
  action(name: string): this {
    if (typeof name === "string" && name !== "") this.#state.actionName = name;
    return this;
  }

  /** What the operation was about: `req.audit.target("order", order.id)`. */
  target(type: string, id: string | number | { toString(): string }): this {
    if (typeof type === "string" && id !== undefined && id !== null) {
      this.#state.targetValue = { type, id: String(id) };
    }
    return this;
  }

  /** Records the error the app handled, as `outcome.error` (its message; never sent anywhere else). */
  error(err: unknown): this {
    this.#state.errorValue = err;
    this.#state.hasError = true;
    return this;
  }

  /** Leaves this request out of the audit trail (counted as skipped). */
  skip(): this {
    this.#state.skipped = true;
    return this;
  }
}

/** What the app told `ctx`: for capture, not part of the public API (the fields are `#private`). */
export function contextState(ctx: AuditContext): Readonly<ContextState> {
  return stateOf(ctx);
}
