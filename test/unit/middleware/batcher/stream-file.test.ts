// The stream kept in the spool slot (`durability: "disk"`): a restart continues the stream and
// never gives an `n` twice, states what a crash may have lost, and starts anew after an end.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ProducerStream } from "../../../../middleware/batcher/stream.js";
import { StreamFile } from "../../../../middleware/batcher/stream-file.js";
import { silentLogger } from "../../../helpers/logger.js";

describe("StreamFile", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "auditq-streamfile-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function process(): { stream: ProducerStream; file: StreamFile } {
    const stream = new ProducerStream();
    const file = new StreamFile(dir, stream, silentLogger);
    file.open();
    return { stream, file };
  }

  it("after a crash continues above the reservation and states the unknown numbers lost", () => {
    const first = process();
    for (let i = 0; i < 10; i++) first.stream.next();
    // Killed: no close().
    const second = process();
    expect(second.stream.id).toBe(first.stream.id);
    expect(second.stream.next()).toBeGreaterThan(10);
    expect(second.stream.mark().lost).toEqual([
      { from: 1, to: second.stream.hwm - 1, reason: "spool-lost" },
    ]);
  });

  it("never reuses a number when numbering overtakes the reservation", () => {
    const first = process();
    let last = 0;
    for (let i = 0; i < 10_000; i++) last = first.stream.next();
    const second = process();
    expect(second.stream.next()).toBeGreaterThan(last);
  });

  it("after a clean close continues at hwm + 1 with nothing to state", () => {
    const first = process();
    for (let i = 0; i < 7; i++) first.stream.next();
    first.file.close(false);
    const second = process();
    expect(second.stream.id).toBe(first.stream.id);
    expect(second.stream.next()).toBe(8);
    expect(second.stream.mark().lost).toBeUndefined();
  });

  it("starts a new stream after the last one ended", () => {
    const first = process();
    first.stream.next();
    first.file.close(true);
    const second = process();
    expect(second.stream.id).not.toBe(first.stream.id);
    expect(second.stream.next()).toBe(1);
  });

  it("keeps the stream that numbered records before the spool opened", () => {
    const first = process();
    first.stream.next();
    first.file.close(false);
    const stream = new ProducerStream();
    stream.next();
    new StreamFile(dir, stream, silentLogger).open();
    expect(stream.id).not.toBe(first.stream.id);
    expect(stream.next()).toBe(2);
  });
});
