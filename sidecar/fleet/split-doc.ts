// The fleet's split document: one per scope in the lease collection, written by the elected
// member (who holds it as a lock while its writes are younger than its lifetime) and read by every
// member. Checked as read, like the leases: anyone who can write the collection may have written it.
import { LEASE_LIFETIME_MS } from "./lease-check.js";
import type { Split } from "./share.js";

/** The split document as stored. Its `scope` keeps it out of the leases read for a split. */
export interface SplitDoc extends Split {
  _id: string;
  scope: string;
  /** The member that wrote it, and holds the lock while `lockedAt` is younger than `lifetimeMs`. */
  holder: string;
  lifetimeMs: number;
  /** Server time of the write. */
  lockedAt: Date;
  /** Counts the splits written: a writer replaces only the version it read (compare-and-set). */
  version: number;
  /**
   * Server time stamped before the leases were read: every lease renewed before it was read
   * in that version or the one before (see FleetMembership's claim history).
   */
  readAt: Date;
  /** Live members counted (the split's `count` also holds a floor for each lapsed lease). */
  live: number;
  host: string;
  pid: number;
}

/** The `_id` (and `scope`) of the split document of the fleet writing to `scope`. */
export function splitId(scope: string): string {
  return `split:${scope}`;
}

const isFiniteNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/**
 * The first thing wrong with `doc` as a split document, if any. Ranges are those a real writer
 * can produce: shares that add up to at most its budget.
 */
function splitFault(doc: Record<string, unknown>): string | undefined {
  const { budget, count, floor, level, bonus, lifetimeMs, lockedAt, readAt, version, live } = doc;
  if (typeof doc.holder !== "string") return "holder is not a string";
  if (!isFiniteNumber(budget) || budget <= 0) return "budget is not a positive number";
  if (!Number.isInteger(count) || (count as number) < 1) return "count is not an integer >= 1";
  if (!Number.isInteger(live) || (live as number) < 0 || (live as number) > (count as number)) {
    return "live is not an integer from 0 to count";
  }
  const even = budget / (count as number);
  // A small tolerance for the sums of floating-point shares.
  const slack = 1 + 1e-9;
  if (!isFiniteNumber(floor) || floor <= 0 || floor > even * slack) {
    return "floor is not a positive number up to an equal share";
  }
  if (!isFiniteNumber(level) || level < 0 || level > budget * slack) {
    return "level is not a number from 0 to the budget";
  }
  if (!isFiniteNumber(bonus) || bonus < 0 || bonus > budget * slack) {
    return "bonus is not a number from 0 to the budget";
  }
  if (
    !Number.isInteger(lifetimeMs) ||
    (lifetimeMs as number) < LEASE_LIFETIME_MS.min ||
    (lifetimeMs as number) > LEASE_LIFETIME_MS.max
  ) {
    return `lifetimeMs is not an integer from ${LEASE_LIFETIME_MS.min} to ${LEASE_LIFETIME_MS.max}`;
  }
  if (!(lockedAt instanceof Date) || !Number.isFinite(lockedAt.getTime())) {
    return "lockedAt is not a date";
  }
  if (!(readAt instanceof Date) || !Number.isFinite(readAt.getTime()))
    return "readAt is not a date";
  if (!Number.isSafeInteger(version) || (version as number) < 1)
    return "version is not an integer >= 1";
  return undefined;
}

/** `doc` as a split document, or why it is not one. */
export function checkSplit(
  doc: unknown,
): { valid: true; split: SplitDoc } | { valid: false; reason: string } {
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    return { valid: false, reason: "not a document" };
  }
  const reason = splitFault(doc as Record<string, unknown>);
  return reason === undefined ? { valid: true, split: doc as SplitDoc } : { valid: false, reason };
}
