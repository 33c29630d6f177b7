// What a test's database says about producer streams: `records_streams` and the numbers stored.
import type { Db } from "mongodb";
import type { LossRange } from "../../shared/wire/stream.js";

/** A `records_streams` document as the sidecar writes it. */
export interface StreamDoc {
  _id: string;
  hwm: number;
  end?: boolean;
  lost?: LossRange[];
  firstSeen: Date;
  lastSeen: Date;
}

/** Every stream the sidecar has written, by id. */
export async function streamDocs(db: Db): Promise<Map<string, StreamDoc>> {
  const docs = await db.collection<StreamDoc>("records_streams").find({}).toArray();
  return new Map(docs.map((d) => [d._id, d]));
}

/** The `seq.n` of every record stored for `stream`, ascending. */
export async function storedNumbers(db: Db, stream: string): Promise<number[]> {
  const docs = await db
    .collection("records")
    .find({ "seq.stream": stream }, { projection: { "seq.n": 1 } })
    .toArray();
  return docs.map((d) => (d.seq as { n: number }).n).sort((a, b) => a - b);
}

/** 1..`to` */
export function oneTo(to: number): number[] {
  return Array.from({ length: to }, (_, i) => i + 1);
}
