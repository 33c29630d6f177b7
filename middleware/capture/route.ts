// Follows the route template Express matched (`/shops/:shopId/items/:id`) while it routes.
//
// Express keeps only values: at finish `req.baseUrl` is `/shops/3`, and by the time an error
// reaches an app-level handler it has restored `req.baseUrl` and `req.params` to the app's own.
// So auditq watches the writes of `req.baseUrl` (one per mount entered) and `req.route` (one
// per matched route) through a pair of accessors.
//
// Where the accessors live decides what they cost. Redefining `baseUrl`, an own data property
// the router already set, as an accessor on the request makes V8 turn the request object into
// a slow dictionary-mode object, and every later property access on it, by the router, Express
// and the app, pays for that (docs/benchmarks.md). So the accessors are installed once on the
// request prototype of the app that runs auditq (`app.request`, which Express 5 gives each
// request before its router runs, and which the requests of sub-apps mounted in it inherit):
// the router's writes then go through the setter into one state object, and the request keeps
// its fast shape. Where that cannot work (Express 4 sets `req.baseUrl` before the prototype;
// an app's first request), the accessors go on the request itself: correct, only slower.
import type { Request } from "express";
import { field } from "./read.js";

/**
 * The route template that matched and the params it saw, taken while Express routes the
 * request; `template` is null when no route matched.
 */
export interface RouteSeen {
  template: string | null;
  params: unknown;
  /**
   * Params of the routers the request was mounted through (`app.use("/invite/:token", r)`),
   * which Express drops from `req.params` inside a router without `mergeParams`.
   */
  mountParams?: Record<string, unknown>;
}

interface Tracked extends RouteSeen {
  /** The mount paths entered so far, outermost first, as [raw path, template]. */
  mounts: Array<[string, string]>;
}

const STATE = Symbol("auditq.route");

/**
 * What the accessors keep for one request: the values Express wrote, and the tracking once
 * auditq's middleware has seen the request. One object of a fixed shape, under one symbol, is
 * the request's only change of shape.
 */
class RouteState {
  route: unknown = undefined;
  tracked: Tracked | undefined = undefined;
  constructor(public base: unknown) {}
}

interface Slots {
  [STATE]?: RouteState;
}

function isPrefix(raw: string, value: string): boolean {
  return raw === "" || value === raw || value.startsWith(`${raw}/`);
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    // A malformed escape is not a param value Express decoded; keep the segment as it is.
    return segment;
  }
}

/** `/shops/3` with params `{ shopId: "3" }` → `/shops/:shopId`. */
function templatize(mounted: string, params: unknown): string {
  if (typeof params !== "object" || params === null) return mounted;
  let entries: [string, unknown][];
  try {
    entries = Object.entries(params);
  } catch {
    // Params behind a Proxy or getter that throws: the mount path stays as it was sent.
    return mounted;
  }
  if (entries.length === 0) return mounted;
  return mounted
    .split("/")
    .map((segment) => {
      if (segment === "") return segment;
      const decoded = decodeSegment(segment);
      const hit = entries.find(([, value]) => value === decoded);
      return hit === undefined ? segment : `:${hit[0]}`;
    })
    .join("/");
}

/** Adds the params a mount matched to `t.mountParams`, as plain data. */
function keepMountParams(t: Tracked, params: unknown): void {
  if (typeof params !== "object" || params === null) return;
  try {
    for (const key of Object.keys(params)) {
      t.mountParams ??= {};
      t.mountParams[key] = (params as Record<string, unknown>)[key];
    }
  } catch {
    // Params behind a Proxy that throws: capture reads them again at finish.
  }
}

/** The router entered (or left) a mount: `req.baseUrl = value`. */
function enterMount(t: Tracked, value: unknown, req: object): void {
  if (typeof value !== "string") return;
  const { mounts } = t;
  let top = mounts[mounts.length - 1] as [string, string];
  while (mounts.length > 1 && !isPrefix(top[0], value)) {
    mounts.pop();
    top = mounts[mounts.length - 1] as [string, string];
  }
  if (value.length > top[0].length && isPrefix(top[0], value)) {
    const params = field(req, "params");
    mounts.push([value, top[1] + templatize(value.slice(top[0].length), params)]);
    keepMountParams(t, params);
  }
}

/** A route matched: `req.route = value`, under the mount `base`. */
function matchRoute(t: Tracked, value: unknown, base: unknown, req: object): void {
  const path = field(value, "path");
  if (typeof path !== "string") return;
  const top = t.mounts[t.mounts.length - 1] as [string, string];
  t.template = (top[0] === base ? top[1] : typeof base === "string" ? base : "") + path;
  t.params = field(req, "params");
}

// One pair of accessors, shared by every request and by both places they can live; the state
// is on the request under a symbol, so following the route costs no closure per request.
const BASE_URL: PropertyDescriptor = {
  configurable: true,
  enumerable: true,
  get(this: Slots) {
    return this[STATE]?.base;
  },
  set(this: Slots, value: unknown) {
    const s = this[STATE];
    if (s === undefined) {
      this[STATE] = new RouteState(value);
      return;
    }
    s.base = value;
    if (s.tracked !== undefined) enterMount(s.tracked, value, this);
  },
};

const MATCHED_ROUTE: PropertyDescriptor = {
  configurable: true,
  enumerable: true,
  get(this: Slots) {
    return this[STATE]?.route;
  },
  set(this: Slots, value: unknown) {
    let s = this[STATE];
    if (s === undefined) {
      s = new RouteState(undefined);
      this[STATE] = s;
    }
    s.route = value;
    if (s.tracked !== undefined) matchRoute(s.tracked, value, s.base, this);
  },
};

/** Prototypes already given the accessors, or found unable to take them. */
const triedPrototypes = new WeakSet<object>();

function installOnPrototype(req: Request): void {
  const proto: unknown = Object.getPrototypeOf(req);
  if (typeof proto !== "object" || proto === null || triedPrototypes.has(proto)) return;
  triedPrototypes.add(proto);
  const owns = (name: string) => Object.getOwnPropertyDescriptor(proto, name) !== undefined;
  // Only an Express app's own request prototype (it owns `app`): never Node's IncomingMessage,
  // Object's, or one where the app defined `baseUrl` or `route` itself.
  if (!owns("app") || owns("baseUrl") || owns("route")) return;
  try {
    Object.defineProperty(proto, "baseUrl", BASE_URL);
    Object.defineProperty(proto, "route", MATCHED_ROUTE);
  } catch {
    // A frozen or sealed prototype: requests keep their own accessors (the slower path).
    return;
  }
}

/**
 * Starts following the route of `req`; the returned object fills in as Express routes it.
 * A request whose prototype carries the accessors costs one object; the first request of each
 * app, and every request on Express 4, gets accessors of its own. Throws when the request
 * cannot take them (frozen): the caller then reads the route at finish.
 */
export function trackRoute(req: Request): RouteSeen {
  const slots = req as unknown as Slots;
  let state = field(req, STATE) as RouteState | undefined;
  if (
    !(state instanceof RouteState) ||
    Object.hasOwn(req, "baseUrl") ||
    Object.hasOwn(req, "route")
  ) {
    state = new RouteState(field(req, "baseUrl"));
    state.route = field(req, "route");
    slots[STATE] = state;
    Object.defineProperty(req, "baseUrl", BASE_URL);
    Object.defineProperty(req, "route", MATCHED_ROUTE);
    installOnPrototype(req);
  }
  const base = state.base;
  const outer = typeof base === "string" ? base : "";
  const tracked: Tracked = { template: null, params: undefined, mounts: [[outer, outer]] };
  state.tracked = tracked;
  return tracked;
}
