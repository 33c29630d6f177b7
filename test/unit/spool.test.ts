// The on-disk spool: durable appends, ordered replay, torn writes, limits, the lock.
import { spawn } from "node:child_process";
import { once } from "node:events";
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Envelope } from "../../middleware/packer.js";
import { Spool } from "../../middleware/spool.js";
import { envelopeAttributes, messageBytes } from "../../shared/envelope.js";
import { silentLogger } from "../helpers/logger.js";

function envelope(body: string, records = 1): Envelope {
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
    second.release(a.slice(1).map((t) => t.entry));
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
    again.release(taken.map((t) => t.entry));
    const all = await again.take(10, 1 << 20);
    expect(all.map((t) => t.envelope.body)).toEqual(["first", "second", "fourth"]);
    await again.close();
  });

  it("stops at a frame whose checksum does not match", async () => {
    const spool = await open();
    await spool.append([envelope("aaaa"), envelope("bbbb"), envelope("cccc")]);
    await spool.close();
    const [segment] = readdirSync(dir).filter((n) => n.endsWith(".aqs"));
    const path = join(dir, segment as string);
    const data = readFileSync(path);
    data[data.indexOf("bbbb")] = "x".charCodeAt(0);
    writeFileSync(path, data);
    const again = await open();
    const taken = await again.take(10, 1 << 20);
    expect(taken.map((t) => t.envelope.body)).toEqual(["aaaa"]);
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
