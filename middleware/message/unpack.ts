// The records of an encoded message, back as serialized items: what re-packing a message that
// SQS refused starts from, so one bad record does not take the others down with it.
import { decompressEnvelope } from "../../shared/wire/body-codec.js";
import { utf8Bytes } from "../../shared/wire/sqs-limits.js";
import { markedNumbers, parseStreamMark } from "../../shared/wire/stream.js";
import { seqInJson, withSeqJson } from "./numbering.js";
import type { EncodedMessage, Item } from "./packer.js";
import { sqsSafeJson } from "./sqs-text.js";

const RECORDS_OPENING = /^\{"auditq":1,"n":\d+,"records":\[/;
/** What follows the records array when the envelope carries a stream mark (which ends `}}`). */
const MARK_OPENING = '],"stream":{"id":"';
const MARK_KEY = '],"stream":';

/**
 * A serialized record as an item: numbered when it has a number in `stream` (the mark's `n`,
 * or its own `seq`); one of another stream carries its `seq` in its text.
 */
function itemOf(json: string, stream: string | undefined, marked?: Marked, n?: number): Item {
  if (marked && n !== undefined) {
    if (marked.stream === stream) return { json, bytes: utf8Bytes(json), n };
    const own = withSeqJson(json, { stream: marked.stream, n });
    return { json: own, bytes: utf8Bytes(own), carriesSeq: true };
  }
  const seq = seqInJson(json);
  if (!seq) return { json, bytes: utf8Bytes(json) };
  const mine = seq.stream === stream ? seq.n : undefined;
  return { json, bytes: utf8Bytes(json), n: mine, carriesSeq: true };
}

/** The numbers a message's mark names for its records (`ns`), one per record. */
interface Marked {
  stream: string;
  ns: number[];
}

/**
 * The numbers the mark at the end of `text` (after the records array, which ends at `end`)
 * names for its `records` records; undefined without a mark or `ns`. Throws when they do not
 * check out.
 */
function markedOf(text: string, end: number, records: number): Marked | undefined {
  if (!text.startsWith(MARK_KEY, end)) return undefined;
  const value: unknown = JSON.parse(text.slice(end + MARK_KEY.length, -1));
  const mark = parseStreamMark(value);
  const ranges = markedNumbers(value, mark, records);
  if (!mark || !ranges) return undefined;
  const ns: number[] = [];
  for (const [from, to] of ranges) for (let n = from; n <= to; n++) ns.push(n);
  return { stream: mark.id, ns };
}

/** Where the records array of an envelope's text ends (at its `]`), or -1. */
function recordsEnd(text: string): number {
  if (text.endsWith("]}")) return text.length - 2;
  // A mark has no `]` followed by this key: the last one is where the records end.
  if (text.endsWith("}}")) return text.lastIndexOf(MARK_OPENING);
  return -1;
}

/** The envelope text of a message, decompressed. */
async function envelopeText(env: EncodedMessage): Promise<string> {
  if (env.encoding === "identity") return env.body;
  const compressed = env.payload ?? Buffer.from(env.body, "base64");
  return (await decompressEnvelope(compressed, env.encoding)).toString("utf8");
}

/**
 * The serialized records of a message auditq packed, in order. Splits the records array at its
 * top-level commas, tracking strings and nesting, so each record comes back byte for byte as
 * it was packed (escaped for SQS, should an older version have packed it raw). Records numbered
 * in `stream` (this producer's) come back with their `n`; those of another stream (a spool
 * left by another process) with their `seq` written into their text, where the mark named it.
 * Throws when the text is not an auditq envelope, or its mark's numbers do not match it.
 */
export async function unpackItems(env: EncodedMessage, stream?: string): Promise<Item[]> {
  const text = await envelopeText(env);
  const opening = RECORDS_OPENING.exec(text);
  const end = recordsEnd(text);
  if (!opening || end < opening[0].length - 1) throw new Error("not an auditq envelope");
  const jsons: string[] = [];
  let depth = 0;
  let inString = false;
  let from = opening[0].length;
  for (let i = from; i < end; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    } else if (c === 0x2c && depth === 0) {
      jsons.push(sqsSafeJson(text.slice(from, i)));
      from = i + 1;
    }
  }
  if (from < end) {
    jsons.push(sqsSafeJson(text.slice(from, end)));
  }
  if (jsons.length !== env.records) {
    throw new Error(`envelope holds ${jsons.length} records, expected ${env.records}`);
  }
  const marked = markedOf(text, end, jsons.length);
  return jsons.map((json, i) => itemOf(json, stream, marked, marked?.ns[i]));
}
