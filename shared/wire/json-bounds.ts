// Counts what a JSON text would materialise (records, values) from its bytes, before parsing.
import { DecodeError } from "../util/errors.js";

/** How much one message may expand into, checked on its bytes before anything is parsed. */
export interface DecodeLimits {
  /** Records (elements of the envelope's `records` array) in one message, at most. */
  maxRecords: number;
  /**
   * JSON values (objects, arrays, members and elements) in one message, at most. Bounds what
   * parsing allocates whatever the records look like: a few huge arrays count as much as
   * millions of tiny records.
   */
  maxValues: number;
}

/** What {@link scanJson} found. */
export interface JsonShape {
  /** Elements of the `records` array of the top-level object (0 when there is none). */
  records: number;
  /** Upper bound of the values the text parses into: containers + separators + 1. */
  values: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const RECORDS_KEY = Buffer.from('"records"');
/**
 * Longest spelling of `"records"` JSON allows: each of its 7 letters as a 6-byte `\uXXXX`
 * escape, and the quotes.
 */
const RECORDS_KEY_MAX_SPELLING = 7 * 6 + 2;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/**
 * One linear pass over UTF-8 bytes (structural JSON characters are ASCII and never occur inside
 * a multi-byte sequence). The `records` key is recognised in every spelling the parser accepts
 * (escapes included), so the count is at least that of the array the parser keeps (the last
 * one under that key). Keys read as other envelope keys (`auditq`, `n`) do not change the count: without
 * `auditq` the message is one record, fewer than counted. Stops as soon as a limit is exceeded and throws DecodeError naming it,
 * so a bomb costs a scan of its bytes and nothing more. Malformed JSON is left to the parser.
 */
export function scanJson(bytes: Uint8Array, limits: DecodeLimits): JsonShape {
  let depth = 0;
  let values = 1;
  let records = 0;
  let inString = false;
  let keyOffset = -1;
  /** The depth-1 key just read was "records" and its value has not started yet. */
  let recordsKeyRead = false;
  /** Depth of the records array while inside it, else -1. */
  let recordsDepth = -1;
  /** Whether the records array has an element yet (an empty one has none). */
  let recordsSeen = false;
  /** The last structural or value byte outside strings (tells a key from a value). */
  let last = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (inString) {
      // Jump to the closing quote natively: strings are most of a record's bytes.
      i = closingQuote(bytes, i);
      if (i < 0) break; // unterminated: the parser reports it
      inString = false;
      if (keyOffset >= 0) {
        recordsKeyRead = isRecordsKey(bytes, keyOffset, i + 1);
        keyOffset = -1;
      }
      continue;
    }
    const c = bytes[i] as number;
    if (isSpace(c)) continue;
    const before = last;
    last = c;
    if (recordsDepth === depth && !recordsSeen && c !== CLOSE_BRACKET) {
      recordsSeen = true;
      records = 1;
    }
    switch (c) {
      case QUOTE:
        inString = true;
        // A string at depth 1 that follows `{` or `,` is a key of the top-level object.
        if (depth === 1 && (before === OPEN_BRACE || before === COMMA)) keyOffset = i;
        else recordsKeyRead = false;
        break;
      case OPEN_BRACE:
      case OPEN_BRACKET:
        values++;
        depth++;
        if (c === OPEN_BRACKET && depth === 2 && recordsKeyRead) {
          recordsDepth = depth;
          recordsSeen = false;
        }
        recordsKeyRead = false;
        break;
      case CLOSE_BRACE:
      case CLOSE_BRACKET:
        if (depth === recordsDepth) recordsDepth = -1;
        depth--;
        break;
      case COMMA:
        recordsKeyRead = false;
        values++;
        if (depth === recordsDepth) records++;
        break;
      default:
        if (c !== COLON) recordsKeyRead = false;
    }
    if (records > limits.maxRecords) {
      throw new DecodeError(
        `message holds more than ${limits.maxRecords} records (maxRecordsPerMessage)`,
        { details: { limit: "records", maxRecords: limits.maxRecords } },
      );
    }
    if (values > limits.maxValues) {
      throw new DecodeError(
        `message holds more than ${limits.maxValues} JSON values (the per-message value limit)`,
        { details: { limit: "values", maxValues: limits.maxValues } },
      );
    }
  }
  return { records, values };
}

/**
 * Whether the key `bytes[from, to)` (quotes included) is `records` as JSON.parse reads it, in any
 * spelling: the parser takes `"r\u0065cords"` for `"records"`, so only a spelling with no escape
 * is compared byte for byte; one with an escape is decoded (it is at most 44 bytes long).
 */
function isRecordsKey(bytes: Uint8Array, from: number, to: number): boolean {
  if (bytesEqual(bytes, from, to, RECORDS_KEY)) return true;
  if (to - from <= RECORDS_KEY.length || to - from > RECORDS_KEY_MAX_SPELLING) return false;
  if (bytes.subarray(from, to).indexOf(BACKSLASH) < 0) return false;
  const spelled = Buffer.from(bytes.buffer, bytes.byteOffset + from, to - from).toString("utf8");
  let key: unknown;
  try {
    key = JSON.parse(spelled);
  } catch (cause) {
    throw new DecodeError("message body is not valid JSON (a top-level key)", { cause });
  }
  return key === "records";
}

function bytesEqual(bytes: Uint8Array, from: number, to: number, expected: Buffer): boolean {
  if (to - from !== expected.length) return false;
  for (let j = 0; j < expected.length; j++) {
    if (bytes[from + j] !== expected[j]) return false;
  }
  return true;
}

/** Index of the quote that closes the string whose content starts at `from`, or -1. */
function closingQuote(bytes: Uint8Array, from: number): number {
  let at = from;
  for (;;) {
    const q = bytes.indexOf(QUOTE, at);
    if (q < 0) return -1;
    // Escaped when preceded by an odd number of backslashes.
    let slashes = 0;
    while (q - slashes - 1 >= from && bytes[q - slashes - 1] === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return q;
    at = q + 1;
  }
}
