import { Registry } from "prom-client";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createSidecarMetrics } from "../../../../sidecar/config/metrics.js";
import {
  cappedReleaseSeconds,
  createQuarantineGate,
} from "../../../../sidecar/write/quarantine-gate.js";
import { RateLimiter } from "../../../../sidecar/write/rate-limiter.js";
import { silentLogger } from "../../../helpers/logger.js";

describe("quarantine gate", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const setup = (maxQuarantineRate: number, rate: RateLimiter) => {
    const metrics = createSidecarMetrics(new Registry(), async () => undefined);
    const gate = createQuarantineGate({ maxQuarantineRate, rate, metrics, logger: silentLogger });
    return { gate, metrics };
  };

  it("spends quarantine entries from the write budget, waiting like an insert", async () => {
    const rate = new RateLimiter(10, 10, 0); // empty, as at start
    const { gate } = setup(0, rate);
    let admitted: string | undefined;
    void gate.admit(5, new AbortController().signal).then((a) => {
      admitted = a;
    });
    await vi.advanceTimersByTimeAsync(499);
    expect(admitted).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(admitted).toBe("admitted");
    expect(rate.usage().spent).toBe(5);
  });

  it("refuses at once beyond its cap, counts it, and admits again as the cap refills", async () => {
    const rate = new RateLimiter(0, 0); // no write budget
    const { gate, metrics } = setup(4, rate);
    const signal = new AbortController().signal;
    expect(await gate.admit(4, signal)).toBe("admitted");
    expect(await gate.admit(1, signal)).toBe("capped");
    expect((await metrics.quarantineCapped.get()).values[0]?.value).toBe(1);
    await vi.advanceTimersByTimeAsync(250);
    expect(await gate.admit(1, signal)).toBe("admitted");
    // A batch larger than the bucket goes through when the bucket is full, then owes the rest.
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await gate.admit(10, signal)).toBe("admitted");
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await gate.admit(1, signal)).toBe("capped");
  });

  it("says aborted when stopped while waiting for the write budget", async () => {
    const { gate } = setup(0, new RateLimiter(1, 1, 0));
    const stop = new AbortController();
    const admission = gate.admit(1, stop.signal);
    stop.abort();
    await vi.advanceTimersByTimeAsync(0);
    expect(await admission).toBe("aborted");
  });

  it("releases what the cap refused ever later, at most a minute", () => {
    expect(cappedReleaseSeconds(1, () => 0)).toBe(1);
    expect(cappedReleaseSeconds(1, () => 1)).toBe(2);
    expect(cappedReleaseSeconds(3, () => 1)).toBe(8);
    expect(cappedReleaseSeconds(50, () => 1)).toBe(60);
    expect(cappedReleaseSeconds(50, () => 0)).toBe(30);
  });
});
