// Deadlines on MongoDB operations: a plain one fails a slow read; the patient one waits for a
// server that answers pings (FerretDB's scans) and still fails a hung one.
import { Registry } from "prom-client";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createSidecarMetrics } from "../../../../sidecar/config/metrics.js";
import {
  createDeadline,
  createPatientDeadline,
  MongoTimeoutError,
} from "../../../../sidecar/write/deadline.js";
import { silentLogger } from "../../../helpers/logger.js";

const MS = 1_000;
const later = <T>(ms: number, value: T) =>
  new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));
const never = () =>
  new Promise<never>(() => {
    // never settles: a hung server
  });

describe("MongoDB deadlines", () => {
  let metrics: ReturnType<typeof createSidecarMetrics>;
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    metrics = createSidecarMetrics(new Registry(), async () => undefined);
  });
  afterEach(() => vi.useRealTimers());

  it("a plain deadline fails a read slower than its period", async () => {
    const deadline = createDeadline(MS, metrics, silentLogger);
    const read = deadline("conflict check", later(3 * MS, "found"));
    const failed = expect(read).rejects.toBeInstanceOf(MongoTimeoutError);
    await vi.advanceTimersByTimeAsync(MS);
    await failed;
  });

  it("the patient deadline waits for a slow read while the server answers pings", async () => {
    const deadline = createPatientDeadline(MS, 6, async () => true, metrics, silentLogger);
    const read = deadline("conflict check", later(3.5 * MS, "found"));
    await vi.advanceTimersByTimeAsync(3.5 * MS);
    await expect(read).resolves.toBe("found");
    expect((await metrics.mongoTimeouts.get()).values.every((v) => v.value === 0)).toBe(true);
  });

  it("fails a read on a server that does not answer pings within two periods", async () => {
    const deadline = createPatientDeadline(MS, 6, never, metrics, silentLogger);
    const read = deadline("conflict check", never());
    const failed = expect(read).rejects.toBeInstanceOf(MongoTimeoutError);
    await vi.advanceTimersByTimeAsync(2 * MS);
    await failed;
    const counted = (await metrics.mongoTimeouts.get()).values;
    expect(counted).toContainEqual(
      expect.objectContaining({ labels: { operation: "conflict check" }, value: 1 }),
    );
  });

  it("gives up after maxPeriods even while the server answers", async () => {
    const deadline = createPatientDeadline(MS, 3, async () => true, metrics, silentLogger);
    const read = deadline("conflict check", never());
    const failed = expect(read).rejects.toBeInstanceOf(MongoTimeoutError);
    await vi.advanceTimersByTimeAsync(3 * MS);
    await failed;
  });

  it("passes a failure of the read itself through at once", async () => {
    const deadline = createPatientDeadline(MS, 6, async () => true, metrics, silentLogger);
    await expect(deadline("conflict check", Promise.reject(new Error("boom")))).rejects.toThrow(
      "boom",
    );
  });
});
