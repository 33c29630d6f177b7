// What a legal hold is: the fields it matches records on, checked as plain strings, and the
// `$nor` clauses that keep the records it matches out of every retention deletion. Pure.
import type { ObjectId } from "bson";
import type { Document } from "mongodb";
import { ConfigError } from "../../shared/util/errors.js";

/** The fields a hold matches on, and the record path each one reads. */
export const HOLD_FIELDS = {
  actor: "actor.id",
  targetType: "target.type",
  targetId: "target.id",
  tenant: "tenant",
} as const;

export type HoldField = keyof typeof HOLD_FIELDS;

/** What a hold matches: every field given must equal the record's (an AND); at least one. */
export type HoldMatch = Partial<Record<HoldField, string>>;

/** A hold as stored in `<collection>_holds`. */
export interface HoldDoc extends HoldMatch {
  _id: ObjectId;
  /** Why the records are held (a case number, a request). */
  reason: string;
  createdAt: Date;
  createdBy: string;
}

/** Longest value a hold field, its reason or its author may have. */
const HOLD_TEXT_MAX_CHARS = 1_024;

/**
 * Most holds a sweep reads: past it the sweep refuses to delete anything (it cannot tell what is
 * held), rather than delete what one of the holds it did not read would keep.
 */
export const MAX_HOLDS = 1_000;

function text(name: string, value: unknown): string {
  if (typeof value !== "string" || value.length === 0 || value.length > HOLD_TEXT_MAX_CHARS) {
    throw new ConfigError(
      `hold ${name}: expected a string of 1 to ${HOLD_TEXT_MAX_CHARS} characters, got ${typeof value === "string" ? `${value.length} characters` : typeof value}`,
    );
  }
  return value;
}

/**
 * The match of a hold, checked: only the fields of HOLD_FIELDS, each a non-empty string (a
 * literal: an object such as `{ $ne: "x" }` is refused, so a hold can never widen into an
 * operator), at least one of them. Throws ConfigError naming the first problem.
 */
export function checkHoldMatch(input: Readonly<Record<string, unknown>>): HoldMatch {
  const match: HoldMatch = {};
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined) continue;
    if (!Object.hasOwn(HOLD_FIELDS, key)) {
      throw new ConfigError(
        `hold: unknown field ${JSON.stringify(key)}; expected ${Object.keys(HOLD_FIELDS).join(", ")}`,
      );
    }
    match[key as HoldField] = text(key, value);
  }
  if (Object.keys(match).length === 0) {
    throw new ConfigError(
      `hold: give at least one of ${Object.keys(HOLD_FIELDS).join(", ")} (a hold on nothing would keep nothing)`,
    );
  }
  return match;
}

/** A hold's reason or author, checked like its fields. */
export function checkHoldText(name: "reason" | "createdBy", value: unknown): string {
  return text(name, value);
}

/** The record filter of one match: `{ "actor.id": "u1", tenant: "t" }`. */
function recordFilter(match: HoldMatch): Document {
  const filter: Document = {};
  for (const [field, path] of Object.entries(HOLD_FIELDS)) {
    const value = match[field as HoldField];
    if (value !== undefined) filter[path] = value;
  }
  return filter;
}

/**
 * The `$nor` clauses of the stored holds `docs`, as read by a sweep. Fails closed: a document
 * that is not a valid hold (written by hand, say) throws, so the sweep deletes nothing rather
 * than what that hold may have meant to keep.
 */
export function holdClauses(docs: readonly Document[]): Document[] {
  if (docs.length > MAX_HOLDS) {
    throw new Error(`more than ${MAX_HOLDS} legal holds; retention deletes nothing until fewer`);
  }
  return docs.map((doc) => {
    const fields: Record<string, unknown> = {};
    for (const key of Object.keys(HOLD_FIELDS)) fields[key] = doc[key];
    try {
      return recordFilter(checkHoldMatch(fields));
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new Error(`invalid legal hold ${String(doc._id)} (${why}); retention deletes nothing`);
    }
  });
}
