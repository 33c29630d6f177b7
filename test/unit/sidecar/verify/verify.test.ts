// The verifier's logic on an in-memory trail: what each kind of tampering and loss is reported as.
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { Binary, type Document, Double, Int32, ObjectId } from "bson";
import { describe, expect, it } from "vitest";
import { documentHash } from "../../../../sidecar/verify/canonical.js";
import { verifyTrail } from "../../../../sidecar/verify/verify.js";
import { MemoryTrail } from "../../../helpers/memory-trail.js";

const STREAM = "AAAAAAAAAAAAAAAAAAAAAA";
const OTHER = "BBBBBBBBBBBBBBBBBBBBBB";

function record(stream: string | null, n: number): Document {
  const doc: Document = {
    _id: new ObjectId(),
    v: 2,
    ts: new Date(1_700_000_000_000 + n),
    actor: { id: `user-${n}`, ip: "10.0.0.1" },
    action: "POST /orders/:id",
    request: { method: "POST", path: `/orders/${n}`, route: "/orders/:id", query: { page: "2" } },
    outcome: { status: 201, durationMs: 12.5 },
    meta: { amount: 12.25, count: 3, big: 2 ** 40, nested: { z: 1, a: [1, "two", null] } },
  };
  if (stream !== null) doc.seq = { stream, n };
  return doc;
}

/** A trail of `count` records of STREAM in messages of `per`, closed at `count`. */
function trail(count: number, per = 4, key?: KeyObject) {
  const t = new MemoryTrail(key);
  const records = Array.from({ length: count }, (_, i) => record(STREAM, i + 1));
  for (let i = 0; i < count; i += per) t.store(records.slice(i, i + per));
  t.streams.push({ _id: STREAM, hwm: new Int32(count), end: true, lost: [] });
  return { t, records };
}

describe("verifyTrail", () => {
  it("finds nothing on a clean trail", async () => {
    const { t } = trail(20);
    const report = await verifyTrail(t.sources());
    expect(report).toMatchObject({
      ok: true,
      records: 20,
      streams: 1,
      digests: 5,
      gaps: [],
      unclosed: [],
      altered: [],
      deleted: [],
      unaccounted: [],
      digestProblems: [],
    });
  });

  it("reports an altered record by _id, stream and n", async () => {
    const { t, records } = trail(8);
    const stored = t.records.find((r) => r._id.equals(records[4]?._id)) as Document;
    stored.outcome.status = new Int32(500);
    const report = await verifyTrail(t.sources());
    expect(report.ok).toBe(false);
    expect(report.altered).toEqual([{ id: records[4]?._id.toHexString(), stream: STREAM, n: 5 }]);
  });

  it("takes an int32 rewritten as a double of the same value as altered (types are content)", async () => {
    const { t } = trail(4);
    const stored = t.records[0] as Document;
    stored.meta.count = new Double(3);
    expect((await verifyTrail(t.sources())).altered).toHaveLength(1);
  });

  it("reports a deleted record, and an expired one below the retention cut-off as expired", async () => {
    const { t, records } = trail(8);
    t.records = t.records.filter(
      (r) => !r._id.equals(records[1]?._id) && !r._id.equals(records[6]?._id),
    );
    t.cutoff = records[2]?._id as ObjectId;
    const report = await verifyTrail(t.sources());
    expect(report.deleted).toEqual([{ id: records[6]?._id.toHexString(), stream: STREAM, n: 7 }]);
    expect(report.expired).toBe(1);
    expect(report.gaps).toEqual([]);
  });

  it("reports a record inserted by hand as unaccounted, with or without seq", async () => {
    const { t } = trail(4);
    const forged = record(STREAM, 3);
    const old = record(null, 0);
    t.records.push(forged, old);
    const lax = await verifyTrail(t.sources());
    expect(lax.unaccounted).toEqual([{ id: forged._id.toHexString(), stream: STREAM, n: 3 }]);
    const strict = await verifyTrail(t.sources(), { strict: true });
    expect(strict.unaccounted.map((u) => u.id).sort()).toEqual(
      [forged._id.toHexString(), old._id.toHexString()].sort(),
    );
  });

  it("finds a digest deleted from the middle of a chain, and its records unaccounted", async () => {
    const { t, records } = trail(12);
    t.digests = t.digests.filter((d) => Number(d.k) !== 2);
    const report = await verifyTrail(t.sources());
    expect(report.digestProblems).toEqual([
      expect.objectContaining({ k: 3, problem: expect.stringMatching(/2\.\.2 are missing/) }),
    ]);
    expect(report.unaccounted.map((u) => u.n)).toEqual([5, 6, 7, 8]);
    expect(report.unaccounted[0]?.id).toBe(records[4]?._id.toHexString());
  });

  it("finds a digest rewritten without re-chaining the next one", async () => {
    const { t } = trail(12);
    const second = t.digests.find((d) => Number(d.k) === 2) as Document;
    second.at = new Date(0);
    const report = await verifyTrail(t.sources());
    expect(report.digestProblems).toEqual([
      expect.objectContaining({
        k: 3,
        problem: expect.stringMatching(/hash of the writer's digest before it/),
      }),
    ]);
  });

  it("reports gaps as ranges with the stated reason, the rest unexplained", async () => {
    const t = new MemoryTrail();
    const ns = [1, 2, 6, 7, 10];
    t.store(ns.map((n) => record(STREAM, n)));
    t.streams.push({
      _id: STREAM,
      hwm: 12,
      end: true,
      lost: [
        { from: 3, to: 4, reason: "buffer-full" },
        { from: 11, to: 11, reason: "close-timeout" },
      ],
    });
    const report = await verifyTrail(t.sources());
    expect(report.gaps).toEqual([
      { stream: STREAM, from: 3, to: 4, reason: "buffer-full" },
      { stream: STREAM, from: 5, to: 5, reason: "unexplained" },
      { stream: STREAM, from: 8, to: 9, reason: "unexplained" },
      { stream: STREAM, from: 11, to: 11, reason: "close-timeout" },
      { stream: STREAM, from: 12, to: 12, reason: "unexplained" },
    ]);
    expect(report.ok).toBe(false);
  });

  it("says a stream without an end is unclosed, with no false gap, and still ok", async () => {
    const t = new MemoryTrail();
    t.store([1, 2, 3].map((n) => record(OTHER, n)));
    t.streams.push({ _id: OTHER, hwm: 3, lost: [] });
    const report = await verifyTrail(t.sources());
    expect(report).toMatchObject({
      ok: true,
      gaps: [],
      unclosed: [{ stream: OTHER, lastStored: 3, hwm: 3 }],
    });
  });

  it("merges digests whose numbers interleave (a re-packed message) without a false finding", async () => {
    const t = new MemoryTrail();
    const records = [1, 2, 3, 4, 5, 6].map((n) => record(STREAM, n));
    t.store([records[0], records[2], records[4]] as Document[]);
    t.store([records[1], records[3], records[5]] as Document[]);
    t.streams.push({ _id: STREAM, hwm: 6, end: true, lost: [] });
    expect(await verifyTrail(t.sources())).toMatchObject({
      ok: true,
      unaccounted: [],
      deleted: [],
    });
  });

  it("with a public key, distrusts an unsigned digest: a record rewritten with its digest is caught", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const { t, records } = trail(4, 4, privateKey);
    expect((await verifyTrail(t.sources(), { publicKey })).ok).toBe(true);
    const stored = t.records[1] as Document;
    stored.actor.id = "mallory";
    const digest = t.digests[0] as Document;
    (digest.hashes as Binary).buffer.set(documentHash(stored), 32);
    delete digest.sig;
    expect((await verifyTrail(t.sources())).ok).toBe(true);
    const report = await verifyTrail(t.sources(), { publicKey });
    expect(report.ok).toBe(false);
    expect(report.digestProblems).toEqual([expect.objectContaining({ problem: "not signed" })]);
    expect(report.unaccounted.map((u) => u.id)).toContain(records[1]?._id.toHexString());
  });

  it("in a time range, takes no number outside it for a gap", async () => {
    const { t, records } = trail(12);
    // As --since and --until select: records 5..8 and the digest entries naming them.
    const inRange = (id: ObjectId) => records.slice(4, 8).some((r) => r._id.equals(id));
    t.records = t.records.filter((r) => inRange(r._id));
    const report = await verifyTrail(t.sources(), { openStart: true, openEnd: true, inRange });
    expect(report).toMatchObject({ ok: true, records: 4, gaps: [], deleted: [], unaccounted: [] });
    // Without the range, the same records leave 1..4 and 9..12 deleted.
    expect((await verifyTrail(t.sources())).deleted.map((d) => d.n)).toEqual([
      1, 2, 3, 4, 9, 10, 11, 12,
    ]);
  });

  it("reads digests of the list layout (written before the packed one) beside packed ones", async () => {
    const t = new MemoryTrail();
    const records = Array.from({ length: 8 }, (_, i) => record(STREAM, i + 1));
    const loose = [record(null, 0), record(null, 0)];
    t.store(records.slice(0, 4), "lists");
    t.store([...records.slice(4), ...loose]);
    t.store([record(null, 0)], "lists");
    t.streams.push({ _id: STREAM, hwm: 8, end: true, lost: [] });
    expect(t.digests.map((d) => [d.v === undefined ? "lists" : "packed", d.stream])).toEqual([
      ["lists", STREAM],
      ["packed", STREAM],
      ["packed", null],
      ["lists", null],
    ]);
    expect(await verifyTrail(t.sources(), { strict: true })).toMatchObject({
      ok: true,
      records: 11,
      digests: 4,
      digestProblems: [],
      unaccounted: [],
    });
    for (const id of [records[1]?._id, records[6]?._id, loose[0]?._id, t.records[10]?._id]) {
      (t.records.find((r) => r._id.equals(id)) as Document).actor = { id: "mallory" };
    }
    const report = await verifyTrail(t.sources(), { strict: true });
    expect(report.altered.map((a) => a.n)).toEqual([2, 7, undefined, undefined]);
    expect(report.digestProblems).toEqual([]);
  });

  const packed = (t: MemoryTrail) => t.digests[0] as Document;
  it.each([
    [
      "ids cut short",
      (t: MemoryTrail) => {
        const ids = packed(t).ids as Binary;
        packed(t).ids = new Binary(ids.buffer.subarray(0, ids.position - 1));
      },
      "ids are not 12 bytes each or hashes not 32 bytes each",
    ],
    [
      "a hash too few",
      (t: MemoryTrail) => {
        const hashes = packed(t).hashes as Binary;
        packed(t).hashes = new Binary(hashes.buffer.subarray(0, hashes.position - 32));
      },
      "ids and hashes are not of one count",
    ],
    [
      "ids as a list",
      (t: MemoryTrail) => {
        packed(t).ids = [new ObjectId()];
      },
      "ids or hashes are not binary",
    ],
    [
      "n ranges short of the count",
      (t: MemoryTrail) => {
        packed(t).n = [new Int32(1), new Int32(3)];
      },
      "a stream's digest whose n's ranges hold fewer numbers than ids",
    ],
    [
      "n ranges of strings",
      (t: MemoryTrail) => {
        packed(t).n = ["1", "4"];
      },
      "a stream's digest whose n's ranges are not whole numbers",
    ],
    [
      "no n",
      (t: MemoryTrail) => {
        delete packed(t).n;
      },
      "a stream's digest whose n is not a list of ranges",
    ],
    [
      "an unknown layout",
      (t: MemoryTrail) => {
        packed(t).v = new Int32(3);
      },
      "unknown layout v: 3",
    ],
  ])(
    "reports a packed digest with %s as malformed, and its records as accounted for by none",
    async (_what, spoil, problem) => {
      const { t, records } = trail(4, 4);
      spoil(t);
      const report = await verifyTrail(t.sources());
      expect(report.ok).toBe(false);
      expect(report.digestProblems).toEqual([
        expect.objectContaining({ k: 1, problem: `malformed: ${problem}` }),
      ]);
      expect(report.unaccounted.map((u) => u.id)).toEqual(
        records.slice(0, 4).map((r) => r._id.toHexString()),
      );
    },
  );

  it("keeps at most maxListed findings per kind and counts the rest", async () => {
    const { t } = trail(4);
    for (let i = 0; i < 5; i++) t.records.push(record(null, 0));
    const report = await verifyTrail(t.sources(), { strict: true, maxListed: 2 });
    expect(report.unaccounted).toHaveLength(2);
    expect(report.notListed).toEqual({ unaccounted: 3 });
  });
});
