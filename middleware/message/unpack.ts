// The records of an encoded message, back as serialized items: what re-packing a message that
// SQS refused starts from, so one bad record does not take the others down with it.
import { decompressEnvelope } from "../../shared/wire/body-codec.js";
import { utf8Bytes } from "../../shared/wire/sqs-limits.js";
import type { EncodedMessage, Item } from "./packer.js";
import { sqsSafeJson } from "./sqs-text.js";

const RECORDS_OPENING = /^\{"auditq":1,"n":\d+,"records":\[/;
/** What follows the records array when the envelope carries a stream mark (which ends `}}`). */
const MARK_OPENING = '],"stream":{"id":"';
/** A record's `seq`, the last key of a record the batcher numbered (batcher.ts, add). */
const SEQ_TAIL = /"seq":\{"stream":"[A-Za-z0-9_-]{22}","n":(\d+)\}\}$/;

/** A serialized record as an item, with its stream number when it has one. */
function itemOf(json: string): Item {
  const seq = SEQ_TAIL.exec(json);
  return { json, bytes: utf8Bytes(json), n: seq ? Number(seq[1]) : undefined };
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
 * it was packed (escaped for SQS, should an older version have packed it raw). Throws when the
 * text is not an auditq envelope.
 */
export async function unpackItems(env: EncodedMessage): Promise<Item[]> {
  const text = await envelopeText(env);
  const opening = RECORDS_OPENING.exec(text);
  const end = recordsEnd(text);
  if (!opening || end < opening[0].length - 1) throw new Error("not an auditq envelope");
  const items: Item[] = [];
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
      items.push(itemOf(sqsSafeJson(text.slice(from, i))));
      from = i + 1;
    }
  }
  if (from < end) {
    items.push(itemOf(sqsSafeJson(text.slice(from, end))));
  }
  if (items.length !== env.records) {
    throw new Error(`envelope holds ${items.length} records, expected ${env.records}`);
  }
  return items;
}
