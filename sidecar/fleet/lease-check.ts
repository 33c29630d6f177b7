// Checks the lease documents read from the lease collection, whoever wrote them: types, ranges,
// and a renewal time no later than the server's clock. Pure: the same verdicts in every member.
import type { Claim } from "./share.js";

/** A lease as stored. `renewedAt` is the server's clock, so hosts' clocks never matter. */
export interface LeaseDoc {
  _id: string;
  /** The records' collection the fleet writes to. */
  scope: string;
  /** The budget this member was configured with: reported when it differs, never used by others. */
  budget: number;
  claim: Claim;
  lifetimeMs: number;
  renewedAt: Date;
  host: string;
  pid: number;
}

/** The range of `leaseLifetimeMs` (option-table.ts): a lease claiming another lifetime is invalid. */
export const LEASE_LIFETIME_MS = { min: 1_000, max: 600_000 } as const;

/**
 * How far in the future of the server's clock a `renewedAt` may be and still count: the clocks of
 * two primaries across a failover. Beyond it a lease is invalid: it would outlive its lifetime.
 */
export const LEASE_CLOCK_SKEW_MS = 2_000;

/**
 * The filter of the leases of `scope` alive at `now` (server time): renewed within a lifetime,
 * and not further in the future than the clock skew allows.
 */
export function liveLeaseFilter(scope: string, now: number, lifetimeMs: number) {
  return {
    scope,
    renewedAt: {
      $gt: new Date(now - lifetimeMs),
      $lte: new Date(now + LEASE_CLOCK_SKEW_MS),
    },
  };
}

/** Longest id an invalid lease is reported by (its `_id` may be anything). */
const ID_MAX_CHARS = 200;

export type LeaseVerdict =
  | { valid: true; lease: LeaseDoc }
  | { valid: false; id: string; reason: string };

const isFiniteNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

function reportedId(id: unknown): string {
  let text: string;
  try {
    text = typeof id === "string" ? id : (JSON.stringify(id) ?? String(id));
  } catch (err) {
    text = `(unprintable _id: ${err instanceof Error ? err.message : String(err)})`;
  }
  return text.slice(0, ID_MAX_CHARS);
}

/** The first thing wrong with `doc` as a lease read at server time `now`, if any. */
function fault(doc: Record<string, unknown>, now: number): string | undefined {
  const { _id, scope, budget, claim, lifetimeMs, renewedAt, host, pid } = doc;
  if (typeof _id !== "string" || _id.length === 0 || _id.length > ID_MAX_CHARS) {
    return `_id is not a string of 1 to ${ID_MAX_CHARS} characters`;
  }
  if (typeof scope !== "string") return "scope is not a string";
  if (!isFiniteNumber(budget) || budget <= 0) return "budget is not a positive number";
  if (claim !== null && !(isFiniteNumber(claim) && claim >= 0)) {
    return "claim is neither null nor a number >= 0";
  }
  if (
    !Number.isInteger(lifetimeMs) ||
    (lifetimeMs as number) < LEASE_LIFETIME_MS.min ||
    (lifetimeMs as number) > LEASE_LIFETIME_MS.max
  ) {
    return `lifetimeMs is not an integer from ${LEASE_LIFETIME_MS.min} to ${LEASE_LIFETIME_MS.max}`;
  }
  if (!(renewedAt instanceof Date) || !Number.isFinite(renewedAt.getTime())) {
    return "renewedAt is not a date";
  }
  const ahead = renewedAt.getTime() - now;
  if (ahead > LEASE_CLOCK_SKEW_MS) {
    return `renewedAt is ${ahead} ms in the future of the server's clock (at most ${LEASE_CLOCK_SKEW_MS})`;
  }
  if (typeof host !== "string") return "host is not a string";
  if (!Number.isInteger(pid)) return "pid is not an integer";
  return undefined;
}

/** The verdict on one document read from the lease collection at server time `now` (ms). */
export function checkLease(doc: unknown, now: number): LeaseVerdict {
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    return { valid: false, id: reportedId(doc), reason: "not a document" };
  }
  const record = doc as Record<string, unknown>;
  const reason = fault(record, now);
  if (reason !== undefined) return { valid: false, id: reportedId(record._id), reason };
  return { valid: true, lease: doc as LeaseDoc };
}

/**
 * The leases that count at server time `now`: valid, and renewed less than their lifetime ago,
 * or `ownLifetimeMs` ago when theirs is longer (so that a lease written once counts no longer
 * than a member that died). The valid ones that lapsed (as likely slow as dead), and the invalid
 * ones, to report.
 */
export function liveLeases(
  docs: readonly unknown[],
  now: number,
  ownLifetimeMs: number,
): { live: LeaseDoc[]; lapsed: LeaseDoc[]; invalid: { id: string; reason: string }[] } {
  const live: LeaseDoc[] = [];
  const lapsed: LeaseDoc[] = [];
  const invalid: { id: string; reason: string }[] = [];
  for (const doc of docs) {
    const verdict = checkLease(doc, now);
    if (!verdict.valid) invalid.push({ id: verdict.id, reason: verdict.reason });
    else if (
      verdict.lease.renewedAt.getTime() + Math.min(verdict.lease.lifetimeMs, ownLifetimeMs) >
      now
    ) {
      live.push(verdict.lease);
    } else lapsed.push(verdict.lease);
  }
  return { live, lapsed, invalid };
}
