// The verifier's pass over records with `seq`: a merge-join, stream by stream in `n` order, of
// the records, the entries of the digests and the `<collection>_streams` documents. Finds gaps,
// unclosed streams, and altered, deleted and unaccounted records. Memory: one `n` at a time.
import type { Document, ObjectId } from "bson";
import type { LossRange } from "../../shared/wire/stream.js";
import { documentHash, isBsonType } from "./canonical.js";
import type { DigestEntry } from "./entries.js";
import { Peekable } from "./peekable.js";
import type { Findings, Gap } from "./report.js";

export interface StreamPassInput {
  /** Records with `seq`, sorted by `seq.stream`, `seq.n`, read with EXACT_READ. */
  records: AsyncIterable<Document>;
  /** Trusted digest entries of streams, sorted by stream and `n`, in chunks (mergeRuns). */
  entries: AsyncIterable<readonly DigestEntry[]>;
  /** `<collection>_streams` documents, sorted by `_id`. */
  streams: AsyncIterable<Document>;
  /** The largest retention cut-off: a missing record below it expired. */
  cutoff: ObjectId | undefined;
  /** A `--since` was given: numbers below the first one seen are not gaps. */
  openStart: boolean;
  /** An `--until` was given: numbers above the last one seen are not gaps. */
  openEnd: boolean;
  /** Called with the count of records read so far, now and then. */
  onProgress?: (records: number) => void;
}

const streamOf = (doc: Document) => (doc.seq as { stream: string }).stream;
const nOf = (doc: Document) => Number((doc.seq as { n: unknown }).n);
const below = (id: ObjectId, cutoff: ObjectId | undefined) =>
  cutoff !== undefined && Buffer.compare(id.id, cutoff.id) < 0;

function minString(...values: (string | undefined)[]): string | undefined {
  let min: string | undefined;
  for (const v of values) if (v !== undefined && (min === undefined || v < min)) min = v;
  return min;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/** Runs the pass, adding to `findings`. */
export async function checkStreams(input: StreamPassInput, findings: Findings): Promise<void> {
  const records = Peekable.of(input.records);
  const entries = Peekable.ofChunks(input.entries);
  const streams = Peekable.of(input.streams);
  for (;;) {
    const r = await records.peek();
    const e = await entries.peek();
    const s = await streams.peek();
    const stream = minString(
      r && streamOf(r),
      e?.stream ?? undefined,
      s?._id as string | undefined,
    );
    if (stream === undefined) return;
    let mark: Document | undefined;
    if (s !== undefined && s._id === stream) {
      mark = s;
      streams.take();
    }
    await checkStream(stream, mark, records, entries, input, findings);
  }
}

async function checkStream(
  stream: string,
  mark: Document | undefined,
  records: Peekable<Document>,
  entries: Peekable<DigestEntry>,
  input: StreamPassInput,
  findings: Findings,
): Promise<void> {
  const { report } = findings;
  let seen = false;
  const lost = lostRanges(mark);
  let last: number | undefined = input.openStart ? undefined : 0;
  let lastId: ObjectId | undefined;
  let lastStored: number | null = null;
  const recs: Document[] = [];
  const ents: DigestEntry[] = [];
  // `x.ready ? x.now() : await x.peek()`: no await (a turn of the microtask queue) for an
  // item already at hand, as digest entries are, a chunk at a time.
  for (;;) {
    let r = records.ready ? records.now() : await records.peek();
    let rn = r !== undefined && streamOf(r) === stream ? nOf(r) : Infinity;
    let e = entries.ready ? entries.now() : await entries.peek();
    if (e !== undefined && e.stream !== stream) e = undefined;
    if (rn === Infinity && e === undefined) break;
    seen = true;
    const n = Math.min(rn, e ? e.n : Infinity);
    recs.length = 0;
    ents.length = 0;
    while (rn === n) {
      recs.push(r as Document);
      records.take();
      r = records.ready ? records.now() : await records.peek();
      rn = r !== undefined && streamOf(r) === stream ? nOf(r) : Infinity;
    }
    while (e !== undefined && e.stream === stream && e.n === n) {
      ents.push(e);
      entries.take();
      e = entries.ready ? entries.now() : await entries.peek();
    }
    if (recs.length > 0) {
      report.records += recs.length;
      if (report.records % 4096 < recs.length) input.onProgress?.(report.records);
    }
    joinAt(stream, n, recs, ents, input.cutoff, findings);
    if (last !== undefined && n > last + 1)
      gap(stream, last + 1, n - 1, lastId, lost, input, findings);
    last = n;
    lastId = (recs[0]?._id as ObjectId | undefined) ?? ents[0]?.id;
    if (recs.length > 0) lastStored = n;
  }
  // In a time range, a stream with nothing in it is another range's business.
  if (!seen && (input.openStart || input.openEnd)) return;
  report.streams++;
  const hwm = mark === undefined ? null : Number(mark.hwm);
  if (!input.openEnd && last !== undefined && hwm !== null && hwm > last) {
    gap(stream, last + 1, hwm, lastId, lost, input, findings);
  }
  if (mark?.end !== true) findings.add("unclosed", { stream, lastStored, hwm }, false);
}

/** The records and digest entries of one `n`: altered, deleted, expired, unaccounted. */
function joinAt(
  stream: string,
  n: number,
  recs: readonly Document[],
  ents: readonly DigestEntry[],
  cutoff: ObjectId | undefined,
  findings: Findings,
): void {
  if (recs.length === 1 && ents.length === 1) {
    // The usual case, one record and its entry: no bookkeeping of which matched.
    const rec = recs[0] as Document;
    const ent = ents[0] as DigestEntry;
    // ObjectId.equals compares the id's numbers; `.id` would build a Buffer of each.
    if (isBsonType(rec._id, "ObjectId") && ent.id.equals(rec._id as ObjectId)) {
      if (!sameBytes(documentHash(rec), ent.hash)) {
        findings.add("altered", { id: ent.id.toHexString(), stream, n });
      }
      return;
    }
  }
  const matched = new Array<boolean>(recs.length).fill(false);
  for (const ent of ents) {
    const i = recs.findIndex(
      (doc, j) => !matched[j] && Buffer.compare(ent.id.id, (doc._id as ObjectId).id) === 0,
    );
    if (i >= 0) {
      matched[i] = true;
      if (!sameBytes(documentHash(recs[i] as Document), ent.hash)) {
        findings.add("altered", { id: ent.id.toHexString(), stream, n });
      }
    } else if (below(ent.id, cutoff)) findings.report.expired++;
    else findings.add("deleted", { id: ent.id.toHexString(), stream, n });
  }
  recs.forEach((doc, j) => {
    if (!matched[j]) {
      findings.add("unaccounted", { id: (doc._id as ObjectId).toHexString(), stream, n });
    }
  });
}

/** The stream's stated losses, sorted by `from`. */
function lostRanges(mark: Document | undefined): LossRange[] {
  const lost = Array.isArray(mark?.lost) ? (mark.lost as Document[]) : [];
  return lost
    .map((l) => ({ from: Number(l.from), to: Number(l.to), reason: l.reason }) as LossRange)
    .filter((l) => Number.isFinite(l.from) && Number.isFinite(l.to) && l.from <= l.to)
    .sort((a, b) => a.from - b.from);
}

/**
 * Adds the gap `from`..`to`, split where the producer stated losses (their reason); the rest is
 * `expired` when the record before it is below the retention cut-off (or there is none:
 * retention removes a stream's oldest records first), else `unexplained`.
 */
function gap(
  stream: string,
  from: number,
  to: number,
  before: ObjectId | undefined,
  lost: readonly LossRange[],
  input: StreamPassInput,
  findings: Findings,
): void {
  const expired =
    input.cutoff !== undefined && (before === undefined || below(before, input.cutoff));
  const rest = expired ? "expired" : "unexplained";
  const pieces: Gap[] = [];
  let at = from;
  for (const l of lost) {
    if (l.to < at || l.from > to) continue;
    if (l.from > at) pieces.push({ stream, from: at, to: l.from - 1, reason: rest });
    const end = Math.min(l.to, to);
    pieces.push({ stream, from: Math.max(l.from, at), to: end, reason: l.reason });
    at = end + 1;
    if (at > to) break;
  }
  if (at <= to) pieces.push({ stream, from: at, to, reason: rest });
  for (const p of pieces) findings.add("gaps", p, p.reason === "unexplained");
}
