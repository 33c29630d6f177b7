// Another local user against the spool: each attack of the report, planted for real, is
// refused. Tests run as root here, so "another user" is a chown to an unused uid; the checks
// compare owners, which holds for root too.
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ObjectId } from "bson";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { EncodedMessage } from "../../../../middleware/message/packer.js";
import { openSlot } from "../../../../middleware/spool/slots.js";
import { Spool } from "../../../../middleware/spool/spool.js";
import { envelopeAttributes } from "../../../../shared/wire/envelope.js";
import { messageBytes } from "../../../../shared/wire/sqs-limits.js";
import { acceptingSqs, testBatcher } from "../../../helpers/batcher-config.js";
import { silentLogger } from "../../../helpers/logger.js";

const OTHER_UID = 54321;

function envelope(body: string): EncodedMessage {
  const attributes = envelopeAttributes("identity");
  return {
    body,
    encoding: "identity",
    attributes,
    records: 1,
    bytes: messageBytes(body, attributes),
  };
}

const mode = (path: string) => statSync(path).mode & 0o777;

describe("the spool against another local user", () => {
  let base: string;
  beforeEach(() => {
    base = join(mkdtempSync(join(tmpdir(), "auditq-attack-")), "spool");
  });
  afterEach(() => {
    rmSync(join(base, ".."), { recursive: true, force: true });
  });

  const openBase = () => openSlot({ dir: base, maxBytes: 1 << 20, logger: silentLogger });

  /** A spool holding one real message in slot-0, closed as a dead process leaves it. */
  async function spoolWith(body: string): Promise<string> {
    const slot = join(base, "slot-0");
    const spool = await Spool.open({ dir: slot, maxBytes: 1 << 20, logger: silentLogger });
    await spool.append([envelope(body)]);
    await spool.close();
    return slot;
  }

  async function bodies(spool: Spool): Promise<string[]> {
    return (await spool.take(100, 1 << 30)).map((t) => t.envelope.body);
  }

  it("1. reading the records: directories are 0700 and files 0600, a wider base is tightened", async () => {
    mkdirSync(base, { mode: 0o755 });
    chmodSync(base, 0o755);
    const opened = await openBase();
    const spool = opened?.spool as Spool;
    await spool.append([envelope("pii")]);
    expect(mode(base)).toBe(0o700);
    expect(mode(spool.dir)).toBe(0o700);
    for (const name of readdirSync(spool.dir))
      expect([name, mode(join(spool.dir, name))]).toEqual([name, 0o600]);
    await spool.close();
  });

  it("2. a planted segment (another user's file) is not sent; the real one is", async () => {
    const slot = await spoolWith("real");
    const forged = join(slot, "seg-0000000000000099.aqs");
    // A frame-perfect forgery: a copy of a valid segment, owned by someone else.
    const [real] = readdirSync(slot).filter((n) => n.endsWith(".aqs") && !n.includes("99"));
    execFileSync("cp", [join(slot, real as string), forged]);
    chownSync(forged, OTHER_UID, OTHER_UID);
    const opened = await openBase();
    const spool = opened?.spool as Spool;
    expect(spool.recovered.refused).toEqual([expect.stringContaining("seg-")]);
    expect(await bodies(spool)).toEqual(["real"]);
    await spool.close();
  });

  it("3. a segment linked to /dev/zero is refused, not read forever", async () => {
    const slot = await spoolWith("real");
    symlinkSync("/dev/zero", join(slot, "seg-0000000000000099.aqs"));
    const opened = await openBase();
    const spool = opened?.spool as Spool;
    expect(spool.recovered.refused).toHaveLength(1);
    expect(await bodies(spool)).toEqual(["real"]);
    await spool.close();
  });

  it("4. a FIFO in place of a segment is refused, and nothing hangs", async () => {
    const slot = await spoolWith("real");
    execFileSync("mkfifo", [join(slot, "seg-0000000000000099.aqs")]);
    const opened = await openBase();
    const spool = opened?.spool as Spool;
    expect(spool.recovered.refused).toHaveLength(1);
    expect(await bodies(spool)).toEqual(["real"]);
    await spool.close();
  });

  it("5. a spool directory redirected through a symlink is refused", async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), "auditq-elsewhere-"));
    try {
      symlinkSync(elsewhere, base);
      await expect(openBase()).rejects.toThrow(/is a symbolic link/);
      rmSync(base);
      mkdirSync(base, { mode: 0o700 });
      symlinkSync(elsewhere, join(base, "slot-0"));
      await expect(openBase()).rejects.toThrow(/slot-0: it is a symbolic link/);
      expect(readdirSync(elsewhere)).toEqual([]);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it("a directory owned by another user turns the spool off, with a clear error", async () => {
    mkdirSync(base, { mode: 0o700 });
    chownSync(base, OTHER_UID, OTHER_UID);
    const { sqs, sent } = acceptingSqs();
    const { batcher: b, errors } = testBatcher(sqs, {
      lingerMs: 0,
      // Even auditq's default directory: a refusal is an error, not a quiet warning.
      spool: { dir: base, maxBytes: 1 << 20, afterMs: 0, defaultDir: true },
    });
    b.add({ _id: new ObjectId(), ts: new Date() });
    await b.flush();
    expect(errors.map((e) => e.message)).toEqual([
      `refusing spool path ${base}: owned by uid ${OTHER_UID}, not by this process's uid ${process.getuid?.()}; running without a spool`,
    ]);
    expect(b.spooledRecords).toBeUndefined();
    expect(sent).toHaveLength(1);
    expect(readdirSync(base)).toEqual([]);
    await b.close(1000);
  });
});
