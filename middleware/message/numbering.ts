// How a message's text names its records' numbers: as ranges in its stream mark (`ns`), or as
// each record's own `seq`, its last key (docs/proof.md, "Sequence numbers and loss statements").
import { envelopeBody } from "../../shared/wire/envelope.js";
import type { AuditSeq } from "../../shared/wire/record.js";
import {
  MAX_N_RANGES_PER_MESSAGE,
  type NumberRange,
  type StreamMark,
} from "../../shared/wire/stream.js";

/** A serialized record and its number, as the packer holds it (packer.ts, Item). */
interface Numbered {
  json: string;
  n?: number | undefined;
  carriesSeq?: boolean | undefined;
}

/** A record's `seq` as the last key of its text: how earlier producers sent every record. */
const SEQ_TAIL = /"seq":\{"stream":"([A-Za-z0-9_-]{22})","n":(\d+)\}\}$/;

/** The `seq` a record's text ends with, if any. */
export function seqInJson(json: string): AuditSeq | undefined {
  const tail = SEQ_TAIL.exec(json);
  return tail ? { stream: tail[1] as string, n: Number(tail[2]) } : undefined;
}

/**
 * A record's text (an object, as serializeRecord writes it, without `seq`) with `seq` added as
 * its last key: byte for byte what serializing the record with `seq` set last writes.
 */
export function withSeqJson(json: string, seq: AuditSeq): string {
  const text = `"seq":{"stream":"${seq.stream}","n":${seq.n}}}`;
  return json.length > 2 ? `${json.slice(0, -1)},${text}` : `{${text}`;
}

/** The stream numbers of `items`, where known; undefined when none is. */
export function seqOf(items: readonly Numbered[]): (number | undefined)[] | undefined {
  return items.some((i) => i.n !== undefined) ? items.map((i) => i.n) : undefined;
}

/**
 * The envelope text of `items` with `mark`. The mark names their numbers (`ns`) when each has
 * one of its stream, ascending, in at most MAX_N_RANGES_PER_MESSAGE ranges; otherwise each
 * numbered record carries its own `seq`, as earlier producers sent every record.
 */
export function markedBody(items: readonly Numbered[], mark: StreamMark | undefined): string {
  if (mark === undefined) return envelopeBody(items.map((i) => i.json));
  const ns = nsOf(items);
  if (ns)
    return envelopeBody(
      items.map((i) => i.json),
      { ...mark, ns },
    );
  const texts = items.map((i) =>
    i.n === undefined || i.carriesSeq ? i.json : withSeqJson(i.json, { stream: mark.id, n: i.n }),
  );
  return envelopeBody(texts, mark);
}

/** The numbers of `items` as ascending ranges, in order; undefined when a mark cannot name them. */
function nsOf(items: readonly Numbered[]): NumberRange[] | undefined {
  if (items.length === 0) return undefined;
  const ranges: NumberRange[] = [];
  let last: NumberRange | undefined;
  for (const item of items) {
    const n = item.n;
    if (n === undefined || item.carriesSeq) return undefined;
    if (last && n === last[1] + 1) {
      last[1] = n;
      continue;
    }
    if ((last && n <= last[1]) || ranges.length === MAX_N_RANGES_PER_MESSAGE) return undefined;
    last = [n, n];
    ranges.push(last);
  }
  return ranges;
}
