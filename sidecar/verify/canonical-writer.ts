// Canonical bytes (canonical.ts) written straight into one reused buffer, for the BSON types
// audit records hold: strings, numbers, booleans, null, dates, ObjectIds, Int32, Double, Long,
// Binary, arrays and plain objects. Anything else makes it give up (undefined), and the caller
// takes bson's serializer. A second serialization per record is the digests' main cost, so
// this path matters: it skips building a sorted copy of every object.

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;

let buf = Buffer.allocUnsafe(64 * 1024);
let at = 0;

/** Array keys, made once. */
const INDEX = Array.from({ length: 256 }, (_, i) => String(i));

/** Thrown inside the writer to give up; never leaves this module. */
const UNSUPPORTED = Symbol("unsupported BSON type");

function room(n: number): void {
  if (at + n <= buf.length) return;
  const bigger = Buffer.allocUnsafe(Math.max(buf.length * 2, at + n));
  buf.copy(bigger, 0, 0, at);
  buf = bigger;
}

/**
 * Writes `text` as UTF-8 at `at`: byte by byte while it is ASCII (most keys and values are,
 * and a call of Buffer.write per short string costs more than the loop), else by Buffer.write.
 * A key (`cstring`) with a NUL character is not valid BSON: bson's serializer refuses it.
 */
function utf8(text: string, cstring: boolean): void {
  room(text.length * 3 + 1);
  const start = at;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) {
      if (cstring && text.includes("\0")) throw UNSUPPORTED;
      at = start + buf.write(text, start, "utf8");
      return;
    }
    if (c === 0 && cstring) throw UNSUPPORTED;
    buf[at++] = c;
  }
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

function int32(key: string, value: number): void {
  element(0x10, key);
  room(4);
  buf.writeInt32LE(value, at);
  at += 4;
}

function bytes(from: Uint8Array): void {
  room(from.length);
  buf.set(from, at);
  at += from.length;
}

function bsonValue(key: string, value: { _bsontype: string } & Record<string, unknown>): void {
  switch (value._bsontype) {
    case "ObjectId":
      element(0x07, key);
      bytes(value.id as Uint8Array);
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
      buf.writeInt32LE(value.low as number, at);
      buf.writeInt32LE(value.high as number, at + 4);
      at += 8;
      return;
    }
    case "Binary": {
      const data = (value.buffer as Uint8Array).subarray(0, value.position as number);
      element(0x05, key);
      room(5);
      buf.writeInt32LE(data.length, at);
      buf[at + 4] = value.sub_type as number;
      at += 5;
      bytes(data);
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
      buf.writeInt32LE(at - start - 4, start);
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
    buf.writeInt32LE((ms % 0x1_0000_0000) | 0, at);
    buf.writeInt32LE(Math.floor(ms / 0x1_0000_0000), at + 4);
    at += 8;
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
  for (let i = 0; i < items.length; i++)
    value(i < INDEX.length ? (INDEX[i] as string) : String(i), items[i]);
  room(1);
  buf[at++] = 0;
  buf.writeInt32LE(at - start, start);
}

function object(obj: Record<string, unknown>): void {
  const start = at;
  room(4);
  at += 4;
  const keys = Object.keys(obj);
  // Records' keys often come in order already: sort only when they do not.
  for (let i = 1; i < keys.length; i++) {
    if ((keys[i - 1] as string) > (keys[i] as string)) {
      keys.sort();
      break;
    }
  }
  for (const key of keys) value(key, obj[key]);
  room(1);
  buf[at++] = 0;
  buf.writeInt32LE(at - start, start);
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
  return buf.subarray(0, at);
}
