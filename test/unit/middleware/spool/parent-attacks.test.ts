// Another local user against the directories above the spool (the default one hangs from the
// OS temp dir): a parent created first, a symlink planted as a parent, a file in its place, a
// top others may write in. Each is refused, the batcher runs memory-only and says so, and
// nothing is written where the attacker controls. "Another user" is a chown to an unused uid,
// which takes root: as another user, those tests are skipped.
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ObjectId } from "bson";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openSlot } from "../../../../middleware/spool/slots.js";
import { acceptingSqs, testBatcher } from "../../../helpers/batcher-config.js";
import { silentLogger } from "../../../helpers/logger.js";

const OTHER_UID = 54321;
const asRoot = process.getuid?.() === 0;

describe("the directories above the default spool, against another local user", () => {
  // `top` plays the OS temp dir; `parent` is `auditq-spool-<uid>`, `base` the queue's folder.
  let top: string;
  let parent: string;
  let base: string;
  beforeEach(() => {
    top = mkdtempSync(join(tmpdir(), "auditq-top-"));
    parent = join(top, "auditq-spool-0");
    base = join(parent, "0123456789abcdef");
  });
  afterEach(() => {
    rmSync(top, { recursive: true, force: true });
  });

  const openDefault = () => openSlot({ dir: base, top, maxBytes: 1 << 20, logger: silentLogger });

  /** A batcher on the default spool: records still reach SQS, the refusal goes to onError. */
  async function refusedByBatcher(reason: RegExp): Promise<void> {
    const { sqs, sent } = acceptingSqs();
    const { batcher: b, errors } = testBatcher(sqs, {
      lingerMs: 0,
      spool: { dir: base, top, maxBytes: 1 << 20, afterMs: 0, defaultDir: true },
    });
    b.add({ _id: new ObjectId(), ts: new Date() });
    await b.flush();
    expect(errors.map((e) => [e.code, e.message])).toEqual([
      ["ERR_AUDITQ_SPOOL", expect.stringMatching(reason)],
    ]);
    expect(errors[0]?.message).toMatch(/running without a spool$/);
    expect(b.spooledRecords).toBeUndefined();
    expect(sent).toHaveLength(1);
    await b.close(1000);
  }

  it.skipIf(!asRoot)(
    "a parent created first by another user, mode 0777, is refused and left empty",
    async () => {
      mkdirSync(parent);
      chmodSync(parent, 0o777);
      chownSync(parent, OTHER_UID, OTHER_UID);
      await expect(openDefault()).rejects.toThrow(
        `refusing spool path ${parent}: owned by uid ${OTHER_UID}`,
      );
      await refusedByBatcher(/auditq-spool-0: owned by uid 54321/);
      expect(readdirSync(parent)).toEqual([]);
    },
  );

  it.skipIf(!asRoot)(
    "a parent planted as a symlink to another user's folder is refused",
    async () => {
      const attacker = mkdtempSync(join(tmpdir(), "auditq-attacker-"));
      try {
        chmodSync(attacker, 0o777);
        chownSync(attacker, OTHER_UID, OTHER_UID);
        symlinkSync(attacker, parent);
        await expect(openDefault()).rejects.toThrow(
          `refusing spool path ${parent}: it is a symbolic link`,
        );
        await refusedByBatcher(/auditq-spool-0: it is a symbolic link/);
        expect(readdirSync(attacker)).toEqual([]);
      } finally {
        rmSync(attacker, { recursive: true, force: true });
      }
    },
  );

  it("a file in the parent's place is refused, not an I/O warning", async () => {
    writeFileSync(parent, "not a directory");
    await expect(openDefault()).rejects.toThrow(
      `refusing spool path ${parent}: it is not a directory`,
    );
    await refusedByBatcher(/auditq-spool-0: it is not a directory/);
  });

  it("a top others may write in without the sticky bit is refused; with it, it is used", async () => {
    chmodSync(top, 0o777);
    await expect(openDefault()).rejects.toThrow(
      `refusing spool path ${top}: others may write in it (mode 0777) and it is not sticky`,
    );
    expect(readdirSync(top)).toEqual([]);
    chmodSync(top, 0o1777);
    const opened = await openDefault();
    expect(opened?.dir).toBe(join(base, "slot-0"));
    await opened?.spool.close();
  });

  it.skipIf(!asRoot)("a top owned by another user is refused", async () => {
    chownSync(top, OTHER_UID, OTHER_UID);
    await expect(openDefault()).rejects.toThrow(
      `refusing spool path ${top}: owned by uid ${OTHER_UID}, neither root nor`,
    );
    expect(readdirSync(top)).toEqual([]);
  });

  it("every level auditq creates is 0700, and a wider one of its own is tightened", async () => {
    mkdirSync(parent, { mode: 0o755 });
    chmodSync(parent, 0o755);
    const opened = await openDefault();
    for (const dir of [parent, base, join(base, "slot-0")]) {
      expect([dir, statSync(dir).mode & 0o7777]).toEqual([dir, 0o700]);
    }
    await opened?.spool.close();
  });
});
