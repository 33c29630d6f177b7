// Opening a slot while this process already holds others: the slots it holds are skipped
// without a directory check, so the k-th instance of one process costs no k checks (a test
// suite that builds an app, and an auditq(), per test).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import * as files from "../../../../middleware/spool/files.js";
import { openSlot, type SlotOpen } from "../../../../middleware/spool/slots.js";
import { silentLogger } from "../../../helpers/logger.js";

vi.mock("../../../../middleware/spool/files.js", async (importOriginal) => {
  const original = await importOriginal<typeof import("../../../../middleware/spool/files.js")>();
  return {
    ...original,
    privateDir: vi.fn(original.privateDir),
    checkPrivateDir: vi.fn(original.checkPrivateDir),
  };
});

describe("slots this process holds", () => {
  let base: string;
  const opened: SlotOpen[] = [];
  const openBase = () => openSlot({ dir: base, maxBytes: 1 << 20, logger: silentLogger });
  /** The directories checked, as paths relative to the base ("" for the base itself). */
  const checked = () =>
    [...vi.mocked(files.privateDir).mock.calls, ...vi.mocked(files.checkPrivateDir).mock.calls]
      .map(([path]) => path.slice(base.length + 1))
      .sort();

  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), "auditq-slots-own-test-"));
  });
  afterEach(async () => {
    for (const slot of opened.splice(0)) await slot.spool.close();
    rmSync(base, { recursive: true, force: true });
  });

  it("are skipped without a directory check, when taking a slot and when adopting", async () => {
    for (let i = 0; i < 5; i++) opened.push((await openBase()) as SlotOpen);
    expect(opened.map((o) => o.slot)).toEqual([0, 1, 2, 3, 4]);
    vi.mocked(files.privateDir).mockClear();
    vi.mocked(files.checkPrivateDir).mockClear();

    const sixth = (await openBase()) as SlotOpen;
    opened.push(sixth);
    expect(sixth.slot).toBe(5);
    // Its own slot is checked (the spies see the checks), the slots held here never are.
    expect(checked()).toContain("slot-5");
    expect(checked().filter((p) => /^slot-[0-4]/.test(p))).toEqual([]);
  });
});
