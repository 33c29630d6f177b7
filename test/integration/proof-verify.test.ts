// The proof end to end: records with `seq` through the queue and a real sidecar into FerretDB,
// then `auditq verify` on what was stored, before and after tampering of each kind.
import { generateKeyPairSync } from "node:crypto";
import { Binary, type Document, type ObjectId } from "bson";
import { describe, expect, it } from "vitest";
import { digestRun } from "../../sidecar/verify/entries.js";
import { mongoSources } from "../../sidecar/verify/mongo-sources.js";
import type { VerifyReport } from "../../sidecar/verify/report.js";
import { verifyTrail } from "../../sidecar/verify/verify.js";
import { runAuditq } from "../helpers/auditq-cli.js";
import { makeRecord } from "../helpers/queue-records.js";
import { sendInEnvelopes, seqRecords, streamId, writeStreamDoc } from "../helpers/seq-records.js";
import { mongoUri, type SqsTarget, sqsTargets, waitFor } from "../helpers/services.js";
import { testSidecar, useSidecarRig } from "../helpers/sidecar-rig.js";
import { untilStored } from "../helpers/until-stored.js";

const target = sqsTargets()[0] as SqsTarget;
const ids = (refs: readonly { id: string }[]) => refs.map((r) => r.id).sort();

describe(`auditq verify on a stored trail (${target.name})`, () => {
  const rig = useSidecarRig(target);
  const verify = (options: Parameters<typeof verifyTrail>[1] = {}): Promise<VerifyReport> =>
    verifyTrail(mongoSources(rig.mongo.db, "records", {}), options);
  const cli = (...args: string[]) =>
    runAuditq(["verify", "--json", ...args], {
      AUDITQ_MONGODB_URI: mongoUri(),
      AUDITQ_DATABASE: rig.mongo.name,
    });

  /**
   * Sends `records` in `messages` through the queue into the sidecar's collection, and waits
   * for their `digests` (one per message and stream in it).
   */
  async function store(
    records: readonly ReturnType<typeof makeRecord>[],
    messages: number,
    digests = messages,
  ) {
    await sendInEnvelopes(rig.queue, records, Math.ceil(records.length / messages));
    await untilStored(rig, { records: records.length, quarantined: 0 });
    await waitFor(
      `${digests} digests`,
      () => rig.mongo.db.collection("records_digests").countDocuments(),
      (n) => n === digests,
    );
  }

  it("verifies a clean trail, then reports an altered, a deleted, a hand-inserted record and a deleted digest by _id", async () => {
    await rig.start();
    const stream = streamId();
    const records = seqRecords(
      stream,
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    await store(records, 4);
    await writeStreamDoc(rig.mongo, stream, { hwm: 20, end: true });

    const clean = await cli();
    expect(clean.stderr).toBe("");
    expect(clean.code).toBe(0);
    expect(JSON.parse(clean.stdout)).toMatchObject({
      ok: true,
      records: 20,
      streams: 1,
      gaps: [],
      unclosed: [],
      altered: [],
      deleted: [],
      unaccounted: [],
    });

    const coll = rig.mongo.db.collection("records");
    const altered = records[2]?._id as ObjectId;
    const deleted = records[7]?._id as ObjectId;
    await coll.updateOne({ _id: altered }, { $set: { "outcome.status": 201 } });
    await coll.deleteOne({ _id: deleted });
    const forged = { ...makeRecord(99), seq: { stream, n: 21 } };
    await coll.insertOne(forged);

    const tampered = await cli();
    expect(tampered.code).toBe(1);
    const report = JSON.parse(tampered.stdout) as VerifyReport;
    expect(report.ok).toBe(false);
    expect(report.altered).toEqual([{ id: altered.toHexString(), stream, n: 3 }]);
    expect(report.deleted).toEqual([{ id: deleted.toHexString(), stream, n: 8 }]);
    expect(report.unaccounted).toEqual([{ id: forged._id.toHexString(), stream, n: 21 }]);
    expect(report.gaps).toEqual([]);

    // The writer's second digest goes (the middle of its chain, whichever message it was):
    // its records are then accounted for by no digest, and the chain has a hole.
    const digests = rig.mongo.db.collection<{ _id: string }>("records_digests");
    const removed = (await digests.findOne({ k: 2 })) as Document;
    await digests.deleteOne({ _id: removed._id });
    const removedIds = digestRun(removed, undefined).entries.map((e) => e.id.toHexString());
    const covered = (id: ObjectId) => removedIds.includes(id.toHexString());
    const after = await verify();
    expect(ids(after.unaccounted)).toEqual(
      [...removedIds.filter((id) => id !== deleted.toHexString()), forged._id.toHexString()].sort(),
    );
    expect(after.digestProblems).toEqual([
      expect.objectContaining({
        k: 3,
        problem: expect.stringMatching(/digests 2\.\.2 are missing/),
      }),
    ]);
    // A deleted record no digest names any more is a gap in its stream.
    expect(after.deleted).toEqual(covered(deleted) ? [] : [expect.objectContaining({ n: 8 })]);
    expect(after.gaps).toEqual(
      covered(deleted) ? [{ stream, from: 8, to: 8, reason: "unexplained" }] : [],
    );
    expect(after.altered).toEqual(covered(altered) ? [] : [expect.objectContaining({ n: 3 })]);
  });

  it("writes one digest per message however often it is delivered", async () => {
    await rig.start();
    const stream = streamId();
    const records = seqRecords(stream, [1, 2, 3, 4, 5, 6]);
    await store(records, 2);
    // The same two messages again, as after a lost delete: duplicates, no new digest.
    await sendInEnvelopes(rig.queue, records, 3);
    await waitFor(
      "the redelivered records counted as duplicates",
      () => rig.metric("auditq_sidecar_records_duplicate_total"),
      (n) => n === 6,
    );
    await untilStored(rig, { records: 6, quarantined: 0 });
    expect(await rig.mongo.db.collection("records_digests").countDocuments()).toBe(2);
    await writeStreamDoc(rig.mongo, stream, { hwm: 6, end: true });
    expect(await verify()).toMatchObject({ ok: true, records: 6, digestProblems: [] });
  });

  it("verifies a stream stored by two sidecars at once: one chain per sidecar", async () => {
    await rig.start();
    const second = testSidecar(target, rig.queue, rig.mongo);
    await second.start();
    try {
      const stream = streamId();
      await store(
        seqRecords(
          stream,
          Array.from({ length: 60 }, (_, i) => i + 1),
        ),
        20,
      );
      await writeStreamDoc(rig.mongo, stream, { hwm: 60, end: true });
      expect(await verify()).toMatchObject({
        ok: true,
        records: 60,
        digests: 20,
        digestProblems: [],
      });
    } finally {
      await second.stop();
    }
  });

  it("with a signing key, catches a record rewritten together with its digest", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const pub = publicKey.export({ type: "spki", format: "pem" }).toString();
    await rig.start({
      digestSigningKey: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    });
    const stream = streamId();
    const records = seqRecords(stream, [1, 2, 3, 4]);
    await store(records, 1);
    await writeStreamDoc(rig.mongo, stream, { hwm: 4, end: true });
    const signed = await cli(`--public-key=${pub}`);
    expect(signed.stderr).toBe("");
    expect(signed.code).toBe(0);

    // Someone who can write to MongoDB but has no key: rewrites record 2 and puts the new
    // record's hash into the digest, dropping the signature it cannot make.
    const coll = rig.mongo.db.collection("records");
    const target2 = records[1]?._id as ObjectId;
    await coll.updateOne({ _id: target2 }, { $set: { "actor.id": "mallory" } });
    const { documentHash, EXACT_READ } = await import("../../sidecar/verify/canonical.js");
    const rewritten = (await coll.findOne({ _id: target2 }, EXACT_READ)) as Document;
    const digests = rig.mongo.db.collection<{ _id: string }>("records_digests");
    const digest = (await digests.findOne({ stream })) as Document;
    const hashes = Buffer.from((digest.hashes as Binary).buffer);
    hashes.set(documentHash(rewritten), 32);
    await digests.updateOne(
      { _id: digest._id },
      { $set: { hashes: new Binary(hashes) }, $unset: { sig: "" } },
    );

    // Without the key, the forgery holds: that is what the key is for.
    expect((await cli()).code).toBe(0);
    const run = await cli(`--public-key=${pub}`);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as VerifyReport;
    expect(report.digestProblems).toEqual([expect.objectContaining({ problem: "not signed" })]);
    expect(ids(report.unaccounted)).toEqual(records.map((r) => r._id.toHexString()).sort());
  });

  it("reports a stated loss with its reason, an unclosed stream without false gaps, and an expired record as expired", async () => {
    await rig.start();
    const lossy = streamId();
    const open = streamId();
    const lossyRecords = seqRecords(lossy, [1, 2, 3, 6, 7]);
    const openRecords = seqRecords(open, [1, 2, 3]);
    // Two messages of four: the second holds records of both streams, so it has two digests.
    await store([...lossyRecords, ...openRecords], 2, 3);
    await writeStreamDoc(rig.mongo, lossy, {
      hwm: 7,
      end: true,
      lost: [{ from: 4, to: 5, reason: "buffer-full" }],
    });
    await writeStreamDoc(rig.mongo, open, { hwm: 3 });
    // Retention removed the lossy stream's first record; its sweep says where it cut: at the
    // second record (ObjectIds made in one process grow).
    const first = lossyRecords[0]?._id as ObjectId;
    await rig.mongo.db.collection("records").deleteOne({ _id: first });
    await rig.mongo.db.collection("records_retention").insertOne({
      cutoff: lossyRecords[1]?._id as ObjectId,
      deleted: 1,
      startedAt: new Date(),
      finishedAt: new Date(),
    });

    const run = await cli();
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as VerifyReport;
    expect(report).toMatchObject({
      ok: true,
      deleted: [],
      altered: [],
      unaccounted: [],
      expired: 1,
    });
    expect(report.gaps).toEqual([{ stream: lossy, from: 4, to: 5, reason: "buffer-full" }]);
    expect(report.unclosed).toEqual([{ stream: open, lastStored: 3, hwm: 3 }]);
    const human = await runAuditq(["verify"], {
      AUDITQ_MONGODB_URI: mongoUri(),
      AUDITQ_DATABASE: rig.mongo.name,
    });
    expect(human.stdout).toMatch(/durability: "disk"/);
    expect(human.stdout).toMatch(/4\.\.5 buffer-full/);
  });

  it("reports records without seq (older producers) as unaccounted only with --strict", async () => {
    await rig.start();
    const stream = streamId();
    await store(seqRecords(stream, [1, 2]), 1);
    await writeStreamDoc(rig.mongo, stream, { hwm: 2, end: true });
    // Stored before digests existed: no seq, no digest.
    const old = [makeRecord(1), makeRecord(2)];
    await rig.mongo.db.collection("records").insertMany(old);
    expect((await cli()).code).toBe(0);
    const strict = await cli("--strict");
    expect(strict.code).toBe(1);
    expect(ids(JSON.parse(strict.stdout).unaccounted)).toEqual(
      old.map((r) => r._id.toHexString()).sort(),
    );
  });
});
