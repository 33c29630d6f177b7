// Who is acting right now, carried through async work with AsyncLocalStorage: set by
// `audit.as()` and by every request the middleware captures, read by `audit.record()`.
import { AsyncLocalStorage } from "node:async_hooks";
import type { ObjectId } from "bson";
import type { Request, Response } from "express";
import type { AuditActor } from "../../shared/wire/record.js";
import type { ActorResult } from "../config/options.js";

/** The request whose handler started some background work (`causedBy` of its records). */
export interface CausedBy {
  requestId: string;
  /** The `_id` of the request's record; absent when the request is left out on arrival. */
  id?: ObjectId;
}

/** What `audit.record()` takes from the context it runs in when its input leaves it out. */
export interface Scope {
  /** The acting actor, as the `actor` option returns it; resolved when a record is made. */
  actor(): ActorResult;
  readonly tenant?: string | undefined;
  readonly causedBy?: CausedBy | undefined;
}

/**
 * One store for every auditq middleware of this copy of the package: `audit.as()` of one
 * instance is seen by `record()` of another, as "who acts" is a fact of the work, not of a
 * pipeline.
 */
const storage = new AsyncLocalStorage<Scope>();

/** The scope the caller runs in, if any. */
export function currentScope(): Scope | undefined {
  return storage.getStore();
}

/** Runs `fn` in `scope`; the work `fn` starts (timers, promises, events) inherits it. */
export function runInScope<R>(scope: Scope, fn: () => R): R {
  return storage.run(scope, fn);
}

/**
 * The scope of a captured request, for the work its handler starts: the request's actor, read
 * with the `actor` option when a record is made (auth middleware mounted after auditq has run
 * by then), and the request as `causedBy`. Fields, not closures: one small object per request,
 * and `causedBy` made only when a record asks for it.
 */
export class RequestScope implements Scope {
  /** The request's actor and tenant once its record is built; until then, read from the request. */
  private settled: { actor: ActorResult; tenant: string | undefined } | undefined = undefined;

  constructor(
    private readonly actorOf: (req: Request, res: Response) => ActorResult,
    /** The `tenant` option, made into stored text: the capture's own reading of it. */
    private readonly tenantOf: (req: Request, res: Response) => string | undefined,
    private req: Request | undefined,
    private res: Response | undefined,
    private readonly requestId: string,
    /** The `_id` of the request's record; undefined when the request is left out on arrival. */
    private readonly recordId: ObjectId | undefined,
  ) {}

  actor(): ActorResult {
    if (this.settled !== undefined) return this.settled.actor;
    return this.actorOf(this.req as Request, this.res as Response);
  }

  /** The request's tenant (the `tenant` option), as its record has or will have it. */
  get tenant(): string | undefined {
    if (this.settled !== undefined) return this.settled.tenant;
    return this.tenantOf(this.req as Request, this.res as Response);
  }

  /**
   * The request's record is built: its actor is the scope's from now on, and the request and
   * response are let go, so that long-lived work started by the handler (a timer, a pool
   * created on first use) does not keep them in memory.
   */
  settle(actor: AuditActor, tenant: string | undefined): void {
    this.settled = {
      actor: actor.type === undefined ? actor.id : { id: actor.id, type: actor.type },
      tenant,
    };
    this.req = undefined;
    this.res = undefined;
  }

  get causedBy(): CausedBy {
    const { requestId, recordId } = this;
    return recordId === undefined ? { requestId } : { requestId, id: recordId };
  }
}

/** The scope `audit.as(actor, { tenant, requestId }, fn)` opens, over the one it runs in. */
export class AsScope implements Scope {
  readonly tenant: string | undefined;
  readonly causedBy: CausedBy | undefined;
  constructor(
    private readonly who: ActorResult,
    tenant: string | undefined,
    causedBy: CausedBy | undefined,
  ) {
    this.tenant = tenant;
    this.causedBy = causedBy;
  }

  actor(): ActorResult {
    return this.who;
  }
}
