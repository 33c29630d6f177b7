// Parses relaxed Extended JSON fast: native JSON.parse, then only the forms auditq itself writes.
import { EJSON, ObjectId } from "bson";

/**
 * Exactly what `EJSON.parse(text, { relaxed: true })` returns (or throws), four to five times as fast
 * on auditq's own records. `serializeRecord` writes plain JSON plus two Extended JSON forms, an
 * ObjectId as `{"$oid":"<24 hex>"}` and a Date from 1970 to 9999 as `{"$date":"<ISO text>"}`.
 * Those are parsed by `JSON.parse` without a reviver (EJSON runs one on every value) and then
 * converted in one walk. Any other `$`-key, or anything else EJSON treats specially, makes the
 * whole text go through EJSON itself, so the result never differs.
 */
export function parseRelaxedEjson(text: string): unknown {
  // EJSON refuses keys holding NUL, and a NUL can only come from this escape (raw control
  // characters are not valid JSON). Rare enough to leave to EJSON, error message included.
  if (text.includes("\\u0000") || !prototypesClean()) return EJSON.parse(text, { relaxed: true });
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== "object" || parsed === null) return parsed;
  const out = revive(parsed, 0);
  return out === NOT_OURS ? EJSON.parse(text, { relaxed: true }) : out;
}

const NOT_OURS: unique symbol = Symbol("not auditq's Extended JSON");

/** Deeper than this, leave it to EJSON (which reports a stack overflow its own way). */
const MAX_DEPTH = 128;

const HEX_24 = /^[0-9a-fA-F]{24}$/;

/**
 * Names EJSON looks up with `value.name` or `name in value`, so inherited ones count too. Set
 * on a prototype (by a polluting library or attack), they change EJSON's answer for every
 * object: leave such a process to EJSON.
 */
const LOOKED_UP = ["$undefined", "$date", "$code", "$id", "$ref", "$db", "$dbPointer"];

function prototypesClean(): boolean {
  for (const name of LOOKED_UP) if (name in Array.prototype) return false;
  // revive() walks objects with for-in, which would also visit inherited enumerable keys.
  for (const _ in Object.prototype) return false;
  return true;
}

/**
 * Converts, in place, the `$oid`/`$date` objects under `value` (a fresh JSON.parse result) and
 * returns `value`, or what replaces it when it is one of those objects itself; NOT_OURS when
 * anything needs EJSON.
 */
function revive(value: object, depth: number): unknown {
  if (depth > MAX_DEPTH) return NOT_OURS;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item !== "object" || item === null) continue;
      const out = revive(item, depth + 1);
      if (out === NOT_OURS) return NOT_OURS;
      if (out !== item) value[i] = out;
    }
    return value;
  }
  const obj = value as Record<string, unknown>;
  // for-in, not Object.keys: no array per object (a record has about ten objects). Only own
  // keys are visited: prototypesClean() made sure Object.prototype has no enumerable key.
  for (const key in obj) {
    // A `$`-key anywhere decides for the whole object; what was converted in place before it
    // does not matter, NOT_OURS sends the text to EJSON, which parses it afresh.
    if (key.charCodeAt(0) === 36) return dollarForm(obj);
    const item = obj[key];
    if (typeof item !== "object" || item === null) continue;
    const out = revive(item, depth + 1);
    if (out === NOT_OURS) return NOT_OURS;
    if (out !== item) obj[key] = out;
  }
  return obj;
}

/** An object with a `$`-key: ours when it is the one-key `$oid` or `$date` form we write. */
function dollarForm(obj: Record<string, unknown>): unknown {
  const keys = Object.keys(obj);
  if (keys.length !== 1) return NOT_OURS;
  const key = keys[0];
  const value = obj[key as string];
  if (typeof value !== "string") return NOT_OURS;
  // The constructor, as EJSON uses: createFromHexString would go through a Buffer first.
  if (key === "$oid") return HEX_24.test(value) ? new ObjectId(value) : NOT_OURS;
  // EJSON: `new Date()` then `setTime(Date.parse(text))`, invalid text giving an Invalid Date.
  if (key === "$date") return new Date(Date.parse(value));
  return NOT_OURS;
}
