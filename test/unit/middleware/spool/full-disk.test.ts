// A full disk: an append that does not fit is refused (never a short write taken as done), and
// the segment keeps only whole frames. Needs a tiny filesystem: a 64 KiB tmpfs, mounted when
// this process may (root with CAP_SYS_ADMIN, as in CI); skipped otherwise.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { EncodedMessage } from "../../../../middleware/message/packer.js";
import { Spool } from "../../../../middleware/spool/spool.js";
import { envelopeAttributes } from "../../../../shared/wire/envelope.js";
import { messageBytes } from "../../../../shared/wire/sqs-limits.js";
import { silentLogger } from "../../../helpers/logger.js";

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

const mountPoint = mkdtempSync(join(tmpdir(), "auditq-full-disk-"));
const mounted =
  spawnSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", mountPoint]).status === 0;

describe.runIf(mounted)("the spool on a full disk", () => {
  afterAll(() => {
    // Lazy: a handle a failed test left open must not keep the mount (and the directory).
    spawnSync("umount", ["-l", mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  });

  it("refuses an append that does not fit and keeps only whole frames", async () => {
    const dir = join(mountPoint, "spool");
    const spool = await Spool.open({ dir, maxBytes: 1 << 30, logger: silentLogger });
    const small = envelope("a".repeat(20_000));
    expect(await spool.append([small])).toBe(true);
    expect(await spool.append([small])).toBe(true);
    // About 40 KiB used: 30 KB more does not fit in 64 KiB.
    await expect(spool.append([envelope("b".repeat(30_000))])).rejects.toMatchObject({
      code: "ENOSPC",
    });
    expect(spool.records).toBe(2);
    const [segment] = readdirSync(dir).filter((n) => n.endsWith(".aqs"));
    const frameBytes = statSync(join(dir, segment as string)).size;
    await spool.close();

    const again = await Spool.open({ dir, maxBytes: 1 << 30, logger: silentLogger });
    expect(again.recovered).toMatchObject({ entries: 2, corruptBytes: 0 });
    expect(again.bytes).toBe(frameBytes);
    expect((await again.take(10, 1 << 30)).map((t) => t.envelope.body.length)).toEqual([
      20_000, 20_000,
    ]);
    await again.close();
  });
});

if (!mounted) rmSync(mountPoint, { recursive: true, force: true });
