// The records of an encoded message, back as serialized items: what re-packing a message that
// SQS refused starts from, so one bad record does not take the others down with it.
import { decompressEnvelope } from "../../shared/wire/body-codec.js";
import { utf8Bytes } from "../../shared/wire/sqs-limits.js";
import type { EncodedMessage, Item } from "./packer.js";
import { sqsSafeJson } from "./sqs-text.js";

const RECORDS_OPENING = /^\{"auditq":1,"n":\d+,"records":\[/;

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
  if (!opening || !text.endsWith("]}")) throw new Error("not an auditq envelope");
  const items: Item[] = [];
  const end = text.length - 2;
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
      const json = sqsSafeJson(text.slice(from, i));
      items.push({ json, bytes: utf8Bytes(json) });
      from = i + 1;
    }
  }
  if (from < end) {
    const json = sqsSafeJson(text.slice(from, end));
    items.push({ json, bytes: utf8Bytes(json) });
  }
  if (items.length !== env.records) {
    throw new Error(`envelope holds ${items.length} records, expected ${env.records}`);
  }
  return items;
}
