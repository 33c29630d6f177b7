// durability "disk": every record is in the spool's file at the end of the turn of the event
// loop that captured it, before any SQS call, and sending reads it back from there, packed.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { ObjectId } from "bson";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resolveOptions } from "../../../../../middleware/config/resolve.js";
import { scanFrames } from "../../../../../middleware/spool/scan.js";
import { ConfigError } from "../../../../../shared/util/errors.js";
import { decodeMessage } from "../../../../../shared/wire/decoder.js";
import { FULL_CALL, spoolOpened, testBatcher } from "../../../../helpers/batcher-config.js";

/** Records in the frames of every segment file under `base` (all slots). */
function recordsOnDisk(base: string): number {
  let records = 0;
  for (const slot of readdirSync(base).filter((n) => n.startsWith("slot-"))) {
    for (const name of readdirSync(join(base, slot)).filter((n) => n.endsWith(".aqs"))) {
      const { frames } = scanFrames(readFileSync(join(base, slot, name)));
      for (const f of frames) records += f.records;
    }
  }
  return records;
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('durability: "disk"', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "auditq-disk-first-"));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function batcher(durability: "memory" | "disk", sqs: SQSClient) {
    return testBatcher(sqs, {
      ...FULL_CALL,
      maxBufferBytes: 16 << 20,
      maxInflight: 4,
      compression: undefined,
      // An hour: SQS failing never sends records to the spool; only the durability mode does.
      spool: { dir, maxBytes: 1 << 30, afterMs: 3_600_000 },
      durability,
    }).batcher;
  }

  it("writes each record to the spool file by the end of the turn that captured it", async () => {
    // SQS never answers: nothing may depend on a call.
    const hung = { send: () => new Promise(() => undefined) } as unknown as SQSClient;
    const b = batcher("disk", hung);
    for (let i = 0; i < 5; i++) b.add({ _id: new ObjectId(), early: i }); // before the spool is open
    await spoolOpened(b);
    await turn();
    expect(recordsOnDisk(dir)).toBe(5);
    for (let i = 0; i < 300; i++) b.add({ _id: new ObjectId(), n: i, pad: "x".repeat(200) });
    await turn();
    expect(recordsOnDisk(dir)).toBe(305);
    expect(b.spooledRecords).toBe(305);
    expect(b.bufferedRecords).toBe(0);
    const report = await b.close(300);
    expect(report).toMatchObject({ spooled: 305, dropped: 0 });
  });

  it('"memory" keeps them in memory meanwhile (what disk mode changes)', async () => {
    const hung = { send: () => new Promise(() => undefined) } as unknown as SQSClient;
    const b = batcher("memory", hung);
    await spoolOpened(b);
    for (let i = 0; i < 300; i++) b.add({ _id: new ObjectId(), n: i });
    await turn();
    expect(recordsOnDisk(dir)).toBe(0);
    await b.close(300);
  });

  it("sends what it logged, packed and compressed, and empties the spool", async () => {
    const received: unknown[] = [];
    const encodings: string[] = [];
    const sqs = {
      send: async (command: SendMessageBatchCommand) => {
        const entries = command.input.Entries ?? [];
        for (const e of entries) {
          encodings.push(e.MessageAttributes?.["auditq-encoding"]?.StringValue ?? "");
          received.push(
            ...(await decodeMessage({
              Body: e.MessageBody,
              MessageAttributes: e.MessageAttributes,
            })),
          );
        }
        return { Successful: entries.map((e) => ({ Id: e.Id })) };
      },
    } as unknown as SQSClient;
    const b = batcher("disk", sqs);
    await spoolOpened(b);
    const ids = Array.from({ length: 500 }, () => new ObjectId());
    for (const [i, _id] of ids.entries()) {
      b.add({ _id, n: i, pad: "y".repeat(300) });
      if (i % 50 === 49) await turn(); // ten turns: ten log entries, packed into few messages
    }
    await b.flush();
    expect(received.map((d) => String((d as { _id: unknown })._id)).sort()).toEqual(
      ids.map(String).sort(),
    );
    expect(encodings.length).toBeLessThan(10);
    expect(encodings.every((e) => e === "br")).toBe(true);
    expect(b.spooledRecords).toBe(0);
    await b.close(1000);
  });

  it("needs the spool: spool: false is refused, naming the option", () => {
    const attempt = () =>
      resolveOptions({ queueUrl: "http://sqs.local/1/q", spool: false, durability: "disk" });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/durability: "disk".*spool/);
    try {
      attempt();
    } catch (err) {
      expect((err as ConfigError).option).toBe("durability");
    }
    expect(resolveOptions({ queueUrl: "http://sqs.local/1/q" }).durability).toBe("memory");
  });
});
