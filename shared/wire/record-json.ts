// One record as JSON text for an envelope: relaxed Extended JSON, fast for plain records.
import { type Document, EJSON, ObjectId } from "bson";

/**
 * One record as it goes into an envelope: relaxed Extended JSON, byte for byte what
 * `EJSON.stringify(record, { relaxed: true })` writes. Records are plain data with an ObjectId
 * and Dates, which {@link plainForJson} turns into `{"$oid"}`/`{"$date"}` objects for the
 * native `JSON.stringify` (about half EJSON's time); anything else goes through EJSON itself.
 */
export function serializeRecord(record: Document): string {
  if (!("toJSON" in Object.prototype)) {
    const plain = plainForJson(record, 0);
    if (plain !== NOT_PLAIN) return JSON.stringify(plain);
  }
  return EJSON.stringify(record, { relaxed: true });
}

/**
 * One value inside a record as relaxed Extended JSON text, as it is written at that place in
 * the record's text: the plainness walk and `JSON.stringify` when it is plain, EJSON otherwise.
 * Undefined when EJSON leaves the key out (a function or a symbol). The caller has checked that
 * `Object.prototype` has no `toJSON`.
 */
export function valueJson(value: unknown, depth: number): string | undefined {
  const plain = plainForJson(value, depth);
  return plain !== NOT_PLAIN
    ? JSON.stringify(plain)
    : (EJSON.stringify(value, { relaxed: true }) as string | undefined);
}

// The second of the last date written and its ISO text up to the seconds: records made close
// together share it, and toISOString is the dearest part of writing a date.
let isoSecond = Number.NaN;
let isoPrefix = "";

/** A Date's relaxed Extended JSON text, or undefined when EJSON writes it as `$numberLong`. */
export function isoDateJson(date: Date): string | undefined {
  const time = date.getTime();
  if (!(time > -1 && time < ISO_DATE_END)) return undefined;
  const ms = time % 1000;
  if (time - ms !== isoSecond) {
    isoPrefix = date.toISOString().slice(0, 19);
    isoSecond = time - ms;
  }
  // As EJSON writes it: milliseconds only when not zero.
  if (ms === 0) return `{"$date":"${isoPrefix}Z"}`;
  return `{"$date":"${isoPrefix}.${ms < 10 ? "00" : ms < 100 ? "0" : ""}${ms}Z"}`;
}

const NOT_PLAIN: unique symbol = Symbol("not plain");
/** Deeper than this, leave it to EJSON (which also reports circular structures). */
const PLAIN_MAX_DEPTH = 64;
/** First instant of year 10000: EJSON relaxed writes dates from 1970 up to here as ISO text. */
const ISO_DATE_END = 253402300800000;

/**
 * `value` as JSON.stringify must see it to write what relaxed EJSON writes: the same object
 * when it holds only strings, finite numbers, booleans, null, plain objects and arrays; a copy
 * with ObjectIds and in-range Dates replaced by their Extended JSON form; NOT_PLAIN for anything
 * else (undefined, non-finite numbers, bigint, other classes and BSON types, `_bsontype` or
 * `toJSON` keys, a `__proto__` key that would have to be copied, very deep nesting).
 */
function plainForJson(value: unknown, depth: number): unknown {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      return Number.isFinite(value) ? value : NOT_PLAIN;
    case "object":
      break;
    default:
      return NOT_PLAIN;
  }
  if (value === null) return value;
  if (depth > PLAIN_MAX_DEPTH) return NOT_PLAIN;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) {
    const obj = value as Record<string, unknown>;
    if (obj._bsontype !== undefined || obj.toJSON !== undefined) return NOT_PLAIN;
    const keys = Object.keys(obj);
    let copy: Record<string, unknown> | undefined;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      const item = obj[key];
      const out = plainForJson(item, depth + 1);
      if (out === NOT_PLAIN) return NOT_PLAIN;
      if (copy === undefined && out !== item) {
        copy = {};
        for (let j = 0; j < i; j++) {
          const before = keys[j] as string;
          if (before === "__proto__") return NOT_PLAIN;
          copy[before] = obj[before];
        }
      }
      if (copy !== undefined) {
        if (key === "__proto__") return NOT_PLAIN;
        copy[key] = out;
      }
    }
    return copy ?? obj;
  }
  if (proto === Array.prototype) {
    const arr = value as unknown[];
    if ((arr as { toJSON?: unknown }).toJSON !== undefined) return NOT_PLAIN;
    let copy: unknown[] | undefined;
    for (let i = 0; i < arr.length; i++) {
      const item = arr[i];
      const out = plainForJson(item, depth + 1);
      if (out === NOT_PLAIN) return NOT_PLAIN;
      if (copy === undefined && out !== item) copy = arr.slice(0, i);
      if (copy !== undefined) copy.push(out);
    }
    return copy ?? arr;
  }
  if (proto === ObjectId.prototype) return { $oid: (value as ObjectId).toHexString() };
  if (proto === Date.prototype) {
    const date = value as Date;
    const time = date.getTime();
    if (!(time > -1 && time < ISO_DATE_END)) return NOT_PLAIN;
    const iso = date.toISOString();
    // As EJSON writes it: milliseconds only when not zero.
    return { $date: date.getUTCMilliseconds() !== 0 ? iso : `${iso.slice(0, -5)}Z` };
  }
  return NOT_PLAIN;
}
