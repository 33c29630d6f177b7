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
// and the app, pays for that (measured in BENCHMARKS.md). So the accessors are installed once
// on the request prototype of the app that runs auditq (`app.request`, which Express 5 gives
// each request before its router runs): the router's writes then go through the setter into
// symbol-keyed slots, and the request object keeps its fast shape. Where that cannot work
// (Express 4 sets `req.baseUrl` before the prototype; auditq mounted in a sub-app), the
// accessors go on the request itself, as before: correct, only slower.
import type { Request } from "express";

/** The template that matched and the params it saw, or `null` if no route matched. */
export interface RouteSeen {
  template: string | null;
  params: unknown;
}

interface Tracked extends RouteSeen {
  /** The mount paths entered so far, outermost first, as [raw path, template]. */
  mounts: Array<[string, string]>;
}

const STATE = Symbol("auditq.route");

/**
 * What the accessors keep for one request: the values Express wrote, and the tracking once
 * auditq's middleware has seen the request. One object added to the request, with a fixed
 * shape, keeps the request's own shape change to a single property.
 */
class RouteState {
  route: unknown = undefined;
  tracked: Tracked | undefined = undefined;
  constructor(public base: unknown) {}
}

interface Slots {
  [STATE]?: RouteState;
  params?: unknown;
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
  const entries = Object.entries(params);
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

/** The router entered (or left) a mount: `req.baseUrl = value`. */
function enterMount(t: Tracked, value: unknown, params: unknown): void {
  if (typeof value !== "string") return;
  const { mounts } = t;
  let top = mounts[mounts.length - 1] as [string, string];
  while (mounts.length > 1 && !isPrefix(top[0], value)) {
    mounts.pop();
    top = mounts[mounts.length - 1] as [string, string];
  }
  if (value.length > top[0].length && isPrefix(top[0], value)) {
    mounts.push([value, top[1] + templatize(value.slice(top[0].length), params)]);
  }
}

/** A route matched: `req.route = value`, under the mount `base`. */
function matchRoute(t: Tracked, value: unknown, base: unknown, params: unknown): void {
  const path = (value as { path?: unknown } | undefined)?.path;
  if (typeof path !== "string") return;
  const top = t.mounts[t.mounts.length - 1] as [string, string];
  t.template = (top[0] === base ? top[1] : typeof base === "string" ? base : "") + path;
  t.params = params;
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
    if (s.tracked !== undefined) enterMount(s.tracked, value, this.params);
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
    if (s.tracked !== undefined) matchRoute(s.tracked, value, s.base, this.params);
  },
};

/** Prototypes already given the accessors, or found unable to take them. */
const triedPrototypes = new WeakSet<object>();

function installOnPrototype(req: Request): void {
  const proto: unknown = Object.getPrototypeOf(req);
  // Only an app's own request prototype: never Node's IncomingMessage or Object's.
  if (typeof proto !== "object" || proto === null || triedPrototypes.has(proto)) return;
  triedPrototypes.add(proto);
  const owns = (name: string) => Object.getOwnPropertyDescriptor(proto, name) !== undefined;
  if (!owns("app") || owns("baseUrl") || owns("route")) return;
  try {
    Object.defineProperty(proto, "baseUrl", BASE_URL);
    Object.defineProperty(proto, "route", MATCHED_ROUTE);
  } catch {
    // A frozen prototype: requests keep their own accessors (the slower path), nothing else.
    return;
  }
}

/**
 * Starts following the route of `req`; the returned object fills in as Express routes it.
 * Requests of an app whose prototype carries the accessors cost one object; the first request
 * of each app (and every request on Express 4) gets its own accessors.
 */
export function trackRoute(req: Request): RouteSeen {
  const slots = req as unknown as Slots;
  let state = slots[STATE];
  if (state === undefined || Object.hasOwn(req, "baseUrl") || Object.hasOwn(req, "route")) {
    state = new RouteState(req.baseUrl);
    state.route = req.route;
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
