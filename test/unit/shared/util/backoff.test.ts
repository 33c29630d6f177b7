import { describe, expect, it } from "vitest";
import { backoffDelay } from "../../../../shared/util/backoff.js";
import { billedRequests } from "../../../../shared/wire/sqs-limits.js";

describe("backoffDelay", () => {
  const policy = { baseMs: 100, maxMs: 5_000 };
  it("doubles the ceiling each attempt up to the cap", () => {
    const top = () => 0.999_999;
    expect(backoffDelay(1, policy, top)).toBe(99);
    expect(backoffDelay(2, policy, top)).toBe(199);
    expect(backoffDelay(6, policy, top)).toBe(3199);
    expect(backoffDelay(7, policy, top)).toBe(4999);
    expect(backoffDelay(1000, policy, top)).toBe(4999);
  });
  it("draws from the full range (full jitter)", () => {
    expect(backoffDelay(5, policy, () => 0)).toBe(0);
  });
});

describe("billedRequests", () => {
  it("counts started 64 KiB chunks, at least one", () => {
    expect(billedRequests(0)).toBe(1);
    expect(billedRequests(65_536)).toBe(1);
    expect(billedRequests(65_537)).toBe(2);
    expect(billedRequests(262_144)).toBe(4);
  });
});
