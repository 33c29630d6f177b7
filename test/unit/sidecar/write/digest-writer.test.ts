// The digest writer's chain under redelivery and failures, against an in-memory stand-in for the
// digests collection that answers as the driver does (an ordered insertMany stops at the first
// duplicate _id): each chain stays unbroken, and each message's fate is what was stored.
import { type Document, ObjectId } from "bson";
import type { Collection } from "mongodb";
import { describe, expect, it } from "vitest";
import type { HeldMessage } from "../../../../sidecar/receive/held-message.js";
import { type DigestDoc, digestHash } from "../../../../sidecar/verify/digest.js";
import { DigestWriter } from "../../../../sidecar/write/digest-writer.js";
import { silentLogger } from "../../../helpers/logger.js";

class DuplicateKey extends Error {
  override name = "MongoBulkWriteError";
  result = { getWriteConcernError: () => undefined };
  constructor(
    readonly insertedCount: number,
    readonly writeErrors: { index: number; code: number }[],
  ) {
    super("E11000 duplicate key");
  }
}

/**
 * Stores digests by _id; `failOnce` makes the next insert store its digests and then fail as a
 * lost acknowledgement does (an unknown outcome that was in fact a success).
 */
function memoryDigests() {
  const stored = new Map<string, DigestDoc>();
  let failNext = false;
  const collection = {
    async insertMany(docs: DigestDoc[]) {
      for (const [i, doc] of docs.entries()) {
        if (stored.has(doc._id)) throw new DuplicateKey(i, [{ index: i, code: 11000 }]);
        stored.set(doc._id, doc);
      }
      if (failNext) {
        failNext = false;
        throw new Error("connection reset before the acknowledgement");
      }
    },
    find(filter: { writer: string }) {
      const mine = [...stored.values()].filter((d) => d.writer === filter.writer);
      return {
        sort: () => ({
          limit: () => ({ toArray: async () => mine.sort((a, b) => b.k - a.k).slice(0, 1) }),
        }),
      };
    },
  };
  return {
    stored,
    failOnce: () => {
      failNext = true;
    },
    collection: collection as unknown as Collection<DigestDoc>,
  };
}

function message(stream: string, ns: number[]): HeldMessage {
  return {
    message: { MessageId: `m-${ns.join("-")}` },
    messageId: `m-${ns.join("-")}`,
    receiveCount: 1,
    pending: 0,
    failed: false,
    extendedAt: 0,
    decodedBytes: 0,
    stored: ns.map((n) => ({ id: ID(stream, n), stream, n, hash: Buffer.alloc(32, n) })),
  };
}

const ids = new Map<string, ObjectId>();
const ID = (stream: string, n: number) => {
  const key = `${stream}/${n}`;
  if (!ids.has(key)) ids.set(key, new ObjectId());
  return ids.get(key) as ObjectId;
};

function writer(digests: Collection<DigestDoc>) {
  const outcomes: [string, boolean][] = [];
  const w = new DigestWriter({
    digests,
    key: undefined,
    writeConcern: {},
    deadline: (_op, work) => work,
    spend: async () => true,
    done: (owner, ok) => outcomes.push([owner.messageId, ok]),
    logger: silentLogger,
  });
  return { w, outcomes };
}

/** Every writer's chain in the store follows on: k = 1, 2, … and prev = hash of k - 1. */
function chainsUnbroken(stored: Map<string, DigestDoc>): void {
  const byWriter = new Map<string, DigestDoc[]>();
  for (const d of stored.values()) byWriter.set(d.writer, [...(byWriter.get(d.writer) ?? []), d]);
  for (const chain of byWriter.values()) {
    chain.sort((a, b) => a.k - b.k);
    chain.forEach((d, i) => {
      expect(d.k).toBe(i + 1);
      const prev = chain[i - 1];
      expect(d.prev === null ? null : Buffer.from(d.prev.buffer)).toEqual(
        prev ? digestHash(prev as unknown as Document) : null,
      );
    });
  }
}

describe("DigestWriter", () => {
  it("skips a redelivered message's digest and links the rest after the last one stored", async () => {
    const db = memoryDigests();
    const first = writer(db.collection);
    first.w.submit(message("S", [1, 2]));
    await first.w.drain();
    // Another sidecar gets [1, 2] again (redelivered) in one batch with two new messages.
    const second = writer(db.collection);
    second.w.submit(message("S", [3, 4]));
    second.w.submit(message("S", [1, 2]));
    second.w.submit(message("S", [5]));
    await second.w.drain();
    expect(db.stored.size).toBe(3);
    chainsUnbroken(db.stored);
    expect(second.outcomes.every(([, ok]) => ok)).toBe(true);
  });

  it("releases the messages of a write of unknown outcome and resumes the chain from what was stored", async () => {
    const db = memoryDigests();
    const { w, outcomes } = writer(db.collection);
    w.submit(message("S", [1]));
    await w.drain();
    db.failOnce();
    w.submit(message("S", [2]));
    await w.drain();
    w.submit(message("S", [3]));
    await w.drain();
    expect(outcomes).toEqual([
      ["m-1", true],
      ["m-2", false],
      ["m-3", true],
    ]);
    // m-2's digest was stored after all: m-3's follows it, and m-2's redelivery will find it.
    expect([...db.stored.values()].map((d) => d.k)).toEqual([1, 2, 3]);
    chainsUnbroken(db.stored);
  });
});
