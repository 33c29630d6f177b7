// Hostile messages against the sidecar process on real services: decompression bombs, poison records.
import { promisify } from "node:util";
import { brotliCompress, constants, zstdCompress } from "node:zlib";
import { describe, expect, it } from "vitest";
import { envelopeAttributes } from "../../shared/wire/envelope.js";
import { sendBodies, sendRecords } from "../helpers/queue-records.js";
import { type SqsTarget, sqsTargets, waitFor } from "../helpers/services.js";
import { ops } from "../helpers/sidecar-cli.js";
import { useSidecarRig } from "../helpers/sidecar-rig.js";

const target = sqsTargets()[0] as SqsTarget;
const brotli = promisify(brotliCompress);
const zstd = promisify(zstdCompress);

/** `{"auditq":1,"records":[{},{},...]}` of about `bytes` bytes, brotli-compressed and base64. */
async function recordBomb(bytes: number): Promise<string> {
  const n = Math.floor((bytes - 32) / 3);
  const text = Buffer.from(`{"auditq":1,"records":[${"{},".repeat(n - 1)}{}]}`);
  const params = { [constants.BROTLI_PARAM_QUALITY]: 5 };
  return (await brotli(text, { params })).toString("base64");
}

/** The same bomb as {@link recordBomb}, zstd-compressed (as `compression: "zstd"` sends). */
async function zstdRecordBomb(bytes: number): Promise<string> {
  const n = Math.floor((bytes - 32) / 3);
  const text = Buffer.from(`{"auditq":1,"records":[${"{},".repeat(n - 1)}{}]}`);
  return (await zstd(text)).toString("base64");
}

/** An envelope of `n` empty records whose `records` key is spelled with an escape. */
function escapedKeyEnvelope(n: number): string {
  return `{"auditq":1,"r\\u0065cords":[${"{},".repeat(n - 1)}{}]}`;
}

describe(`sidecar process under hostile messages (${target.name})`, () => {
  const rig = useSidecarRig(target);

  it("quarantines record bombs and writes the good messages, on a 256 MiB heap", async () => {
    // 64 MiB of `{},` (over the decoded-bytes cap) and 30 MiB of it (under the cap, over the
    // record limit): each would be millions of objects if parsed.
    const bombs = [await recordBomb(64 * 1024 * 1024), await recordBomb(30 * 1024 * 1024)];
    expect(Math.max(...bombs.map((b) => b.length))).toBeLessThan(4096);
    const zstdBomb = await zstdRecordBomb(64 * 1024 * 1024);
    expect(zstdBomb.length).toBeLessThan(16_384);
    const before = await sendRecords(rig.queue.sqs, rig.queue.queueUrl, 250, 50);
    await sendBodies(rig.queue.sqs, rig.queue.queueUrl, bombs, envelopeAttributes("br"));
    await sendBodies(rig.queue.sqs, rig.queue.queueUrl, [zstdBomb], envelopeAttributes("zstd"));
    const after = await sendRecords(rig.queue.sqs, rig.queue.queueUrl, 200, 50);
    const { cli: c, port } = await rig.spawn({
      AUDITQ_WAIT_TIME_SECONDS: "1",
      NODE_OPTIONS: "--max-old-space-size=256",
    });
    const records = rig.mongo.db.collection("records");
    const quarantine = rig.mongo.db.collection("records_quarantine");
    await waitFor(
      "the good records, three quarantined bombs and an empty queue",
      async () => ({
        docs: await records.countDocuments(),
        quarantined: await quarantine.countDocuments(),
        queue: await rig.queue.depth(),
        exit: c.child.exitCode ?? c.child.signalCode,
      }),
      (s) =>
        s.exit !== null ||
        (s.docs === 450 && s.quarantined === 3 && s.queue.visible + s.queue.inflight === 0),
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    expect(c.child.exitCode ?? c.child.signalCode, c.output()).toBeNull();
    expect(await records.countDocuments({ _id: { $in: [...before, ...after] } })).toBe(450);
    const reasons = (await quarantine.find().toArray()).map((e) => String(e.error?.message));
    expect(reasons.sort()).toEqual([
      expect.stringMatching(/decompresses to more than 33554432 bytes/),
      expect.stringMatching(/decompresses to more than 33554432 bytes/),
      expect.stringMatching(/more than 10000 records/),
    ]);
    const metrics = (await ops(port, "/metrics")).body;
    expect(metrics).toMatch(/^auditq_sidecar_messages_quarantined_total 3$/m);
  });

  it("holds no more than maxBufferedRecords of a message whose records key is escaped", async () => {
    // Issue 25: the bound scanned raw bytes for `"records"`, JSON.parse also reads
    // `"r\u0065cords"`; such a message was held and written whole, whatever the bounds.
    const issue = { [constants.BROTLI_PARAM_QUALITY]: 5 };
    const tiny = await brotli(Buffer.from(escapedKeyEnvelope(240_000)), { params: issue });
    expect(tiny.length).toBeLessThan(128);
    const good = await sendRecords(rig.queue.sqs, rig.queue.queueUrl, 100, 50);
    await sendBodies(rig.queue.sqs, rig.queue.queueUrl, [escapedKeyEnvelope(5_000)]);
    const br = [tiny.toString("base64")];
    await sendBodies(rig.queue.sqs, rig.queue.queueUrl, br, envelopeAttributes("br"));
    await rig.start({ maxBufferedRecords: 1_000 });
    const records = rig.mongo.db.collection("records");
    const quarantine = rig.mongo.db.collection("records_quarantine");
    await waitFor(
      "the good records, two quarantined messages and an empty queue",
      async () => ({
        docs: await records.countDocuments(),
        quarantined: await quarantine.countDocuments(),
        queue: await rig.queue.depth(),
      }),
      (s) => s.quarantined === 2 && s.queue.visible + s.queue.inflight === 0,
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(await records.countDocuments()).toBe(100);
    expect(await records.countDocuments({ _id: { $in: good } })).toBe(100);
    const reasons = (await quarantine.find().toArray()).map((e) => String(e.error?.message));
    expect(reasons.sort()).toEqual([
      expect.stringMatching(/message holds 5000 records, more than maxBufferedRecords \(1000\)/),
      expect.stringMatching(/more than 10000 records/),
    ]);
  });
});
