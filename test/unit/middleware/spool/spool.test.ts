// The on-disk spool: durable appends, ordered replay, torn writes, limits, the lock.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SQSClient } from "@aws-sdk/client-sqs";
import { ObjectId } from "bson";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { auditq } from "../../../../middleware/index.js";
import type { EncodedMessage } from "../../../../middleware/message/packer.js";
import { openSlot, SPOOL_SLOTS } from "../../../../middleware/spool/slots.js";
import { Spool } from "../../../../middleware/spool/spool.js";
import type { AuditqError } from "../../../../shared/util/errors.js";
import type { Logger } from "../../../../shared/util/logger.js";
import { envelopeAttributes } from "../../../../shared/wire/envelope.js";
import { messageBytes } from "../../../../shared/wire/sqs-limits.js";
import { acceptingSqs, testBatcher } from "../../../helpers/batcher-config.js";
import { silentLogger } from "../../../helpers/logger.js";

function envelope(body: string, records = 1): EncodedMessage {
  const attributes = envelopeAttributes("identity");
  return { body, encoding: "identity", attributes, records, bytes: messageBytes(body, attributes) };
}

describe("Spool", () => {
  let dir: string;
  const open = (extra: { maxBytes?: number; segmentBytes?: number } = {}) =>
    Spool.open({ dir, maxBytes: 1 << 20, logger: silentLogger, ...extra });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "auditq-spool-test-"));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("replays in order, in a new instance after the first is gone, and deletes what is done", async () => {
    const first = await open({ segmentBytes: 100 });
    for (let i = 0; i < 5; i++) expect(await first.append([envelope(`m${i}-é`, i + 1)])).toBe(true);
    expect(first.records).toBe(15);
    await first.close();

    const second = await open();
    expect(second.recovered).toMatchObject({ entries: 5, records: 15, corruptBytes: 0 });
    const a = await second.take(2, 1 << 20);
    expect(a.map((t) => t.envelope.body)).toEqual(["m0-é", "m1-é"]);
    expect(a[0]?.envelope.bytes).toBe(messageBytes("m0-é", envelopeAttributes("identity")));
    second.putBack(a.slice(1).map((t) => t.entry));
    await second.done(a.slice(0, 1).map((t) => t.entry));
    const b = await second.take(10, 1 << 20);
    expect(b.map((t) => t.envelope.body)).toEqual(["m1-é", "m2-é", "m3-é", "m4-é"]);
    await second.done(b.map((t) => t.entry));
    expect(second.records).toBe(0);
    expect(second.hasPending()).toBe(false);
    await second.close();
    expect(readdirSync(dir)).toEqual([]);
  });

  it("takes at most the batch byte limit, but always one entry", async () => {
    const spool = await open();
    await spool.append([envelope("x".repeat(500)), envelope("y".repeat(500))]);
    const taken = await spool.take(10, 600);
    expect(taken).toHaveLength(1);
    const big = await spool.take(10, 10);
    expect(big).toHaveLength(1);
    await spool.close();
  });

  it("skips a torn frame at the tail of a segment and keeps everything before it", async () => {
    const spool = await open();
    await spool.append([envelope("first"), envelope("second"), envelope("third")]);
    await spool.close();
    const [segment] = readdirSync(dir).filter((n) => n.endsWith(".aqs"));
    const path = join(dir, segment as string);
    const size = readFileSync(path).length;
    truncateSync(path, size - 3); // kill -9 in the middle of writing "third"

    const again = await open();
    expect(again.recovered.corruptBytes).toBeGreaterThan(0);
    const taken = await again.take(10, 1 << 20);
    expect(taken.map((t) => t.envelope.body)).toEqual(["first", "second"]);
    // New appends go to a new segment, never after the torn bytes.
    await again.append([envelope("fourth")]);
    again.putBack(taken.map((t) => t.entry));
    const all = await again.take(10, 1 << 20);
    expect(all.map((t) => t.envelope.body)).toEqual(["first", "second", "fourth"]);
    await again.close();
  });

  it("skips a corrupt frame, resynchronises on the next one, and counts what was lost", async () => {
    const spool = await open();
    await spool.append([envelope("aaaa"), envelope("bbbb", 7), envelope("cccc")]);
    await spool.close();
    const [segment] = readdirSync(dir).filter((n) => n.endsWith(".aqs"));
    const path = join(dir, segment as string);
    const data = readFileSync(path);
    data[data.indexOf("bbbb")] = "x".charCodeAt(0);
    writeFileSync(path, data);
    const losses: unknown[] = [];
    const again = await Spool.open({
      dir,
      maxBytes: 1 << 20,
      logger: silentLogger,
      onLoss: (records, reason) => losses.push({ records, reason }),
    });
    expect(again.recovered).toMatchObject({ entries: 2, corruptRecords: 7 });
    const taken = await again.take(10, 1 << 20);
    expect(taken.map((t) => t.envelope.body)).toEqual(["aaaa", "cccc"]);
    expect(losses).toEqual([{ records: 7, reason: "corrupt" }]);
    await again.close();
  });

  it("checks each frame again when reading it back: length and CRC", async () => {
    const spool = await open();
    await spool.append([envelope("aaaa"), envelope("bbbb", 3), envelope("cccc", 5)]);
    await spool.close();
    const losses: unknown[] = [];
    const again = await Spool.open({
      dir,
      maxBytes: 1 << 20,
      logger: silentLogger,
      onLoss: (records, reason) => losses.push({ records, reason }),
    });
    // Changed on disk after the scan: one bit of "bbbb" flipped, and the tail cut short.
    const [segment] = readdirSync(dir).filter((n) => n.endsWith(".aqs"));
    const path = join(dir, segment as string);
    const data = readFileSync(path);
    const at = data.indexOf("bbbb");
    data[at] = (data[at] as number) ^ 1;
    writeFileSync(path, data.subarray(0, data.length - 2));
    const taken = await again.take(10, 1 << 20);
    expect(taken.map((t) => t.envelope.body)).toEqual(["aaaa"]);
    expect(losses).toEqual([
      { records: 3, reason: "corrupt" },
      { records: 5, reason: "corrupt" },
    ]);
    expect(again.records).toBe(1);
    await again.close();
  });

  it("refuses appends beyond maxBytes, writing nothing", async () => {
    const spool = await open({ maxBytes: 1 << 20 });
    expect(await spool.append([envelope("x".repeat(600_000))])).toBe(true);
    expect(await spool.append([envelope("y".repeat(600_000))])).toBe(false);
    expect(spool.records).toBe(1);
    expect(spool.bytes).toBeLessThan(1 << 20);
    await spool.close();
  });

  it("refuses a directory locked by a live process and takes over a dead one's", async () => {
    const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"]);
    await once(child, "spawn");
    writeFileSync(join(dir, "LOCK"), String(child.pid));
    await expect(open()).rejects.toMatchObject({ code: "ERR_AUDITQ_SPOOL" });
    const exited = once(child, "exit");
    child.kill("SIGKILL");
    await exited;
    const spool = await open();
    expect(readFileSync(join(dir, "LOCK"), "utf8")).toBe(String(process.pid));
    await spool.close();
  });
});

/** A live process other than this one: a child that idles until killed. */
async function liveChild(): Promise<ChildProcess & { pid: number }> {
  const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"]);
  await once(child, "spawn");
  return child as ChildProcess & { pid: number };
}

/** The pid of a process that has exited and been reaped. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""]);
  const [code] = await once(child, "exit");
  expect(code).toBe(0);
  return child.pid as number;
}

const segmentsIn = (dir: string) => readdirSync(dir).filter((n) => n.endsWith(".aqs"));

describe("spool slots in a shared base directory", () => {
  let base: string;
  const children: ChildProcess[] = [];
  const openBase = () => openSlot({ dir: base, maxBytes: 1 << 20, logger: silentLogger });
  /** Leaves segments holding `bodies` in `slot`, as a process that then died would. */
  async function leave(slot: number, bodies: string[], lockPid: number | undefined) {
    const dir = join(base, `slot-${slot}`);
    const spool = await Spool.open({ dir, maxBytes: 1 << 20, logger: silentLogger });
    for (const body of bodies) await spool.append([envelope(body)]);
    await spool.close();
    if (lockPid !== undefined) writeFileSync(join(dir, "LOCK"), String(lockPid));
    return dir;
  }
  const bodies = async (spool: Spool) =>
    (await spool.take(1000, 1 << 30)).map((t) => t.envelope.body);

  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), "auditq-slots-test-"));
  });
  afterEach(async () => {
    for (const child of children.splice(0)) {
      const exited = once(child, "exit");
      child.kill("SIGKILL");
      await exited;
    }
    rmSync(base, { recursive: true, force: true });
  });

  it("takes the first slot that is free or held by a dead pid, never a live process's", async () => {
    const child = await liveChild();
    children.push(child);
    const dead = await deadPid();
    for (const [slot, pid] of [
      [0, child.pid],
      [1, process.ppid],
      [2, dead],
    ] as const) {
      mkdirSync(join(base, `slot-${slot}`));
      writeFileSync(join(base, `slot-${slot}`, "LOCK"), String(pid));
    }
    const opened = await openBase();
    expect(opened?.slot).toBe(2);
    expect(opened?.dir).toBe(join(base, "slot-2"));
    expect(readFileSync(join(base, "slot-2", "LOCK"), "utf8")).toBe(String(process.pid));
    expect(readFileSync(join(base, "slot-0", "LOCK"), "utf8")).toBe(String(child.pid));
    expect(readFileSync(join(base, "slot-1", "LOCK"), "utf8")).toBe(String(process.ppid));

    // A second instance in this same process must not share slot 2: it gets slot 3.
    const second = await openBase();
    expect(second?.slot).toBe(3);
    await second?.spool.close();
    await opened?.spool.close();
    expect(existsSync(join(base, "slot-2", "LOCK"))).toBe(false);
  });

  it("resolves to no slot when all are held by live processes", async () => {
    const child = await liveChild();
    children.push(child);
    for (let n = 0; n < SPOOL_SLOTS; n++) {
      mkdirSync(join(base, `slot-${n}`));
      writeFileSync(join(base, `slot-${n}`, "LOCK"), String(n % 2 ? child.pid : process.ppid));
    }
    expect(await openBase()).toBeUndefined();
    expect(existsSync(join(base, `slot-${SPOOL_SLOTS}`))).toBe(false);
  });

  it("adopts the segments of dead and unlocked slots behind its own, and replays them", async () => {
    const child = await liveChild();
    children.push(child);
    await leave(0, ["own-1", "own-2"], undefined);
    const deadDir = await leave(3, ["dead-1", "dead-2"], await deadPid());
    const freeDir = await leave(4, ["free-1"], undefined);
    const liveDir = await leave(5, ["live-1"], child.pid);
    const opened = await openBase();
    expect(opened?.slot).toBe(0);
    expect(opened?.adopted).toEqual({ slots: 2, segments: 2 });
    const spool = opened?.spool as Spool;
    expect(spool.recovered).toMatchObject({ entries: 5, records: 5, corruptBytes: 0 });
    expect(await bodies(spool)).toEqual(["own-1", "own-2", "dead-1", "dead-2", "free-1"]);
    // Moved, not copied; the adopted slots' locks released, the live one untouched.
    expect(readdirSync(deadDir)).toEqual([]);
    expect(readdirSync(freeDir)).toEqual([]);
    expect(segmentsIn(liveDir)).toHaveLength(1);
    expect(readFileSync(join(liveDir, "LOCK"), "utf8")).toBe(String(child.pid));
    expect(segmentsIn(join(base, "slot-0"))).toHaveLength(3);
    await spool.close();
  });

  it("adopts a slot whose adoption a crash interrupted, without losing a segment", async () => {
    // The adopter died after moving one of two segments: one is in its slot, one left behind,
    // and the source LOCK names the dead adopter.
    const dead = await deadPid();
    const adopterDir = await leave(1, ["moved"], dead);
    const sourceDir = await leave(2, ["left"], dead);
    const opened = await openBase();
    expect(opened?.slot).toBe(0);
    const spool = opened?.spool as Spool;
    expect((await bodies(spool)).sort()).toEqual(["left", "moved"]);
    expect(readdirSync(adopterDir)).toEqual([]);
    expect(readdirSync(sourceDir)).toEqual([]);
    await spool.close();
  });

  it("skips a torn tail in an adopted segment and keeps the frames before it", async () => {
    const dir = join(base, "slot-1");
    const old = await Spool.open({ dir, maxBytes: 1 << 20, logger: silentLogger });
    await old.append([envelope("first"), envelope("second"), envelope("third")]);
    await old.close();
    const [segment] = segmentsIn(dir);
    const path = join(dir, segment as string);
    truncateSync(path, readFileSync(path).length - 3); // kill -9 while writing "third"
    writeFileSync(join(dir, "LOCK"), String(await deadPid()));

    const opened = await openBase();
    const spool = opened?.spool as Spool;
    expect(opened?.adopted).toEqual({ slots: 1, segments: 1 });
    expect(spool.recovered.corruptBytes).toBeGreaterThan(0);
    expect(await bodies(spool)).toEqual(["first", "second"]);
    await spool.close();
  });

  it("adopts a spool left right in the base directory by a version without slots", async () => {
    const old = await Spool.open({ dir: base, maxBytes: 1 << 20, logger: silentLogger });
    await old.append([envelope("legacy")]);
    await old.close();
    const opened = await openBase();
    expect(await bodies(opened?.spool as Spool)).toEqual(["legacy"]);
    expect(segmentsIn(base)).toEqual([]);
    await opened?.spool.close();
  });
});

describe("the batcher without a usable spool runs memory-only", () => {
  let tmp: string;
  beforeEach(() => {
    tmp = mkdtempSync(join(tmpdir(), "auditq-nospool-test-"));
  });
  afterEach(() => {
    rmSync(tmp, { recursive: true, force: true });
  });

  function batcher(spool: { dir: string; defaultDir?: boolean }, logger: Logger = silentLogger) {
    const { sqs, sent } = acceptingSqs();
    const { batcher: b, errors } = testBatcher(sqs, {
      lingerMs: 0,
      logger,
      spool: { maxBytes: 1 << 20, afterMs: 0, ...spool },
    });
    return { b, errors, sent };
  }

  it("reports all 64 slots busy to onError and still sends", async () => {
    for (let n = 0; n < SPOOL_SLOTS; n++) {
      mkdirSync(join(tmp, `slot-${n}`));
      writeFileSync(join(tmp, `slot-${n}`, "LOCK"), String(process.ppid));
    }
    const { b, errors, sent } = batcher({ dir: tmp });
    b.add({ _id: new ObjectId(), ts: new Date() });
    await b.flush();
    expect(errors.map((e) => [e.code, e.message])).toEqual([
      [
        "ERR_AUDITQ_SPOOL",
        `all 64 spool slots in ${tmp} are held by live processes; running without a spool`,
      ],
    ]);
    expect(b.spooledRecords).toBeUndefined();
    expect(sent).toHaveLength(1);
    expect(await b.close(1000)).toEqual({ sent: 1, spooled: 0, dropped: 0 });
  });

  it("reports an explicit directory it cannot create to onError", async () => {
    const file = join(tmp, "file");
    writeFileSync(file, "not a directory");
    const { b, errors, sent } = batcher({ dir: join(file, "spool") });
    b.add({ _id: new ObjectId(), ts: new Date() });
    await b.flush();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: "ERR_AUDITQ_SPOOL" });
    expect(errors[0]?.message).toContain("cannot open spool at");
    expect(sent).toHaveLength(1);
    expect(await b.close(1000)).toEqual({ sent: 1, spooled: 0, dropped: 0 });
  });

  it("logs one warning, not an error, when the default directory is unusable", async () => {
    // No writable tmpdir (a read-only root filesystem): TMPDIR names a file, not a directory.
    const file = join(tmp, "file");
    writeFileSync(file, "not a directory");
    const warnings: string[] = [];
    const logger: Logger = {
      ...silentLogger,
      warn: (_obj: unknown, msg?: string) => warnings.push(String(msg)),
    };
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = file;
    const errors: AuditqError[] = [];
    let audit: ReturnType<typeof auditq>;
    try {
      audit = auditq({
        queueUrl: "http://127.0.0.1:9/000000000000/q",
        sqs: new SQSClient({
          endpoint: "http://127.0.0.1:9",
          region: "us-east-1",
          credentials: { accessKeyId: "x", secretAccessKey: "x" },
        }),
        logger,
        onError: (err) => errors.push(err),
      });
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
    await audit.flush();
    expect(warnings).toEqual([
      "auditq: cannot use the default spool directory; running without a spool (set spool.dir to a writable directory, or spool: false)",
    ]);
    expect(errors).toEqual([]);
    expect(await audit.close()).toEqual({ sent: 0, spooled: 0, dropped: 0 });
  });
});
