// Canonical bytes (canonical.ts) written straight into one reused buffer, for the BSON types
// audit records hold: strings, numbers, booleans, null, dates, ObjectIds, Int32, Double, Long,
// Binary, arrays and plain objects. Anything else makes it give up (undefined), and the caller
// takes bson's serializer. A second serialization per record is the digests' main cost, so
// this path matters: it skips building a sorted copy of every object.

import type { ObjectId } from "bson";
import { MAX_RECORDS_PER_MESSAGE } from "../../shared/wire/envelope.js";
import { writeObjectId } from "./object-id.js";

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;

let buf = Buffer.allocUnsafe(64 * 1024);
let at = 0;

/**
 * Array keys, each made once, up to the most records a message holds (a digest's arrays have
 * one element per record: 500 under the default packing).
 */
const INDEX: string[] = [];

function index(i: number): string {
  if (i >= MAX_RECORDS_PER_MESSAGE) return String(i);
  let key = INDEX[i];
  if (key === undefined) {
    for (let j = INDEX.length; j <= i; j++) INDEX.push(String(j));
    key = INDEX[i] as string;
  }
  return key;
}

/** Thrown inside the writer to give up; never leaves this module. */
const UNSUPPORTED = Symbol("unsupported BSON type");

function room(n: number): void {
  if (at + n <= buf.length) return;
  const bigger = Buffer.allocUnsafe(Math.max(buf.length * 2, at + n));
  buf.copy(bigger, 0, 0, at);
  buf = bigger;
}

/** Values longer than this go through Buffer.write (native, vectorised) rather than the loop. */
const LONG_STRING = 16;

/**
 * Writes `text` as UTF-8 at `at`: a value longer than LONG_STRING by Buffer.write; a key or a
 * shorter value byte by byte while it is ASCII (most are, and a call of Buffer.write per short
 * string costs more than the loop), else by Buffer.write. A key (`cstring`) with a NUL
 * character is not valid BSON: bson's serializer refuses it.
 */
function utf8(text: string, cstring: boolean): void {
  const length = text.length;
  room(length * 3 + 1);
  // Locals, not the module's variables, in the loop: it runs for every character.
  const out = buf;
  const start = at;
  if (!cstring && length > LONG_STRING) {
    at = start + out.write(text, start);
    return;
  }
  let p = start;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80 || c === 0) {
      if (cstring && text.includes("\0")) throw UNSUPPORTED;
      at = start + out.write(text, start, "utf8");
      return;
    }
    out[p++] = c;
  }
  at = p;
}

function cstring(key: string): void {
  utf8(key, true);
  buf[at++] = 0;
}

function element(type: number, key: string): void {
  room(1);
  buf[at++] = type;
  cstring(key);
}

function double(key: string, value: number): void {
  element(0x01, key);
  room(8);
  buf.writeDoubleLE(Object.is(value, -0) ? 0 : value, at);
  at += 8;
}

/** Writes `value` (an int32, or any number taken modulo 2^32) as 4 bytes, little-endian. */
function le32(value: number): void {
  put32(value, at);
  at += 4;
}

/** Writes `value` as 4 bytes, little-endian, at `p` (a length known once its content is written). */
function put32(value: number, p: number): void {
  const out = buf;
  out[p] = value;
  out[p + 1] = value >>> 8;
  out[p + 2] = value >>> 16;
  out[p + 3] = value >>> 24;
}

function int32(key: string, value: number): void {
  element(0x10, key);
  room(4);
  le32(value);
}

/** Writes the first `length` bytes of `from` (room made by the caller). */
function bytes(from: Uint8Array, length: number): void {
  if (length <= 64) {
    // A hash or an id: a loop costs less than a view and a native copy.
    const out = buf;
    const p = at;
    for (let i = 0; i < length; i++) out[p + i] = from[i] as number;
  } else buf.set(from.subarray(0, length), at);
  at += length;
}

function bsonValue(key: string, value: { _bsontype: string } & Record<string, unknown>): void {
  switch (value._bsontype) {
    case "ObjectId":
      element(0x07, key);
      room(12);
      writeObjectId(value as unknown as ObjectId, buf, at);
      at += 12;
      return;
    case "Int32":
      int32(key, value.value as number);
      return;
    case "Double":
      double(key, value.value as number);
      return;
    case "Long": {
      element(0x12, key);
      room(8);
      le32(value.low as number);
      le32(value.high as number);
      return;
    }
    case "Binary": {
      const data = value.buffer as Uint8Array;
      const length = value.position as number;
      element(0x05, key);
      room(5 + length);
      le32(length);
      buf[at++] = value.sub_type as number;
      bytes(data, length);
      return;
    }
    default:
      throw UNSUPPORTED;
  }
}

function value(key: string, v: unknown): void {
  switch (typeof v) {
    case "string": {
      element(0x02, key);
      room(4);
      const start = at;
      at += 4;
      utf8(v, false);
      buf[at++] = 0;
      put32(at - start - 4, start);
      return;
    }
    case "number":
      if (Number.isInteger(v) && v >= INT32_MIN && v <= INT32_MAX && !Object.is(v, -0)) {
        int32(key, v);
      } else double(key, v);
      return;
    case "boolean":
      element(0x08, key);
      room(1);
      buf[at++] = v ? 1 : 0;
      return;
    case "undefined":
      element(0x0a, key);
      return;
    case "object":
      break;
    default:
      throw UNSUPPORTED;
  }
  if (v === null) {
    element(0x0a, key);
    return;
  }
  if (Array.isArray(v)) {
    element(0x04, key);
    array(v);
    return;
  }
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) throw UNSUPPORTED;
    element(0x09, key);
    room(8);
    const ms = v.getTime();
    le32((ms % 0x1_0000_0000) | 0);
    le32(Math.floor(ms / 0x1_0000_0000));
    return;
  }
  const bsontype = (v as { _bsontype?: unknown })._bsontype;
  if (typeof bsontype === "string") {
    bsonValue(key, v as never);
    return;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) throw UNSUPPORTED;
  element(0x03, key);
  object(v as Record<string, unknown>);
}

function array(items: readonly unknown[]): void {
  const start = at;
  room(4);
  at += 4;
  for (let i = 0; i < items.length; i++) value(index(i), items[i]);
  room(1);
  buf[at++] = 0;
  put32(at - start, start);
}

/**
 * Sorts `keys` by UTF-16 code unit, as Array.prototype.sort does; by insertion up to 32 keys:
 * records' objects have a few, often in order already (no move then), and `<` on two strings
 * costs less than the default comparator's conversions.
 */
function sortKeys(keys: string[]): void {
  if (keys.length > 32) {
    keys.sort();
    return;
  }
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i] as string;
    let j = i - 1;
    if (!((keys[j] as string) > key)) continue;
    do {
      keys[j + 1] = keys[j] as string;
      j--;
    } while (j >= 0 && (keys[j] as string) > key);
    keys[j + 1] = key;
  }
}

function object(obj: Record<string, unknown>): void {
  const start = at;
  room(4);
  at += 4;
  const keys = Object.keys(obj);
  sortKeys(keys);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    value(key, obj[key]);
  }
  room(1);
  buf[at++] = 0;
  put32(at - start, start);
}

/**
 * The canonical bytes of `doc` as a view into the shared buffer (valid until the next call), or
 * undefined when it holds a type this writer does not write.
 */
export function writeCanonical(doc: Record<string, unknown>): Uint8Array | undefined {
  at = 0;
  try {
    object(doc);
  } catch (err) {
    if (err === UNSUPPORTED) return undefined;
    throw err;
  }
  return new Uint8Array(buf.buffer, buf.byteOffset, at);
}
