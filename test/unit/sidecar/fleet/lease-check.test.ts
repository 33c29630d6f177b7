import { describe, expect, it } from "vitest";
import {
  checkLease,
  LEASE_CLOCK_SKEW_MS,
  type LeaseDoc,
  liveLeases,
} from "../../../../sidecar/fleet/lease-check.js";

const NOW = Date.UTC(2025, 0, 1, 12);

function lease(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    _id: "host-1-abcd",
    scope: "records",
    budget: 100,
    claim: null,
    lifetimeMs: 6_000,
    renewedAt: new Date(NOW - 1_000),
    host: "host",
    pid: 1,
    ...over,
  };
}

describe("checkLease (a lease document as read, from anyone who can write the collection)", () => {
  it("takes a well-formed lease", () => {
    expect(checkLease(lease(), NOW)).toEqual({ valid: true, lease: lease() });
    expect(checkLease(lease({ claim: 12.5 }), NOW).valid).toBe(true);
    expect(checkLease(lease({ renewedAt: new Date(NOW + LEASE_CLOCK_SKEW_MS) }), NOW).valid).toBe(
      true,
    );
  });

  it.each([
    ["not an object", "x", /not a document/],
    ["a non-string _id", lease({ _id: 42 }), /_id/],
    ["an empty _id", lease({ _id: "" }), /_id/],
    ["a non-string scope", lease({ scope: 1 }), /scope/],
    ["a string budget", lease({ budget: "100" }), /budget/],
    ["a zero budget", lease({ budget: 0 }), /budget/],
    ["an infinite budget", lease({ budget: Number.POSITIVE_INFINITY }), /budget/],
    ["a string claim", lease({ claim: "all" }), /claim/],
    ["a negative claim", lease({ claim: -5 }), /claim/],
    ["a NaN claim", lease({ claim: Number.NaN }), /claim/],
    ["a lifetime below the option's range", lease({ lifetimeMs: 10 }), /lifetimeMs/],
    ["a lifetime above the option's range", lease({ lifetimeMs: 1e12 }), /lifetimeMs/],
    ["a fractional lifetime", lease({ lifetimeMs: 6000.5 }), /lifetimeMs/],
    ["a string renewedAt", lease({ renewedAt: "2025-01-01" }), /renewedAt/],
    ["a number renewedAt", lease({ renewedAt: NOW }), /renewedAt/],
    ["an invalid date", lease({ renewedAt: new Date(Number.NaN) }), /renewedAt/],
    [
      "a renewedAt past the server's clock and its skew",
      lease({ renewedAt: new Date(NOW + LEASE_CLOCK_SKEW_MS + 1) }),
      /renewedAt .* in the future/,
    ],
    ["a non-string host", lease({ host: {} }), /host/],
    ["a non-integer pid", lease({ pid: "1" }), /pid/],
  ])("refuses %s", (_what, doc, reason) => {
    const verdict = checkLease(doc, NOW);
    expect(verdict.valid).toBe(false);
    if (!verdict.valid) expect(verdict.reason).toMatch(reason);
  });

  it("names an invalid lease by a bounded id, whatever its _id is", () => {
    const verdict = checkLease(lease({ _id: "x".repeat(10_000), budget: -1 }), NOW);
    expect(verdict.valid).toBe(false);
    if (!verdict.valid) expect(verdict.id.length).toBeLessThanOrEqual(200);
    const object = checkLease(lease({ _id: { $oid: "a" }, budget: -1 }), NOW);
    if (!object.valid) expect(object.id).toBe('{"$oid":"a"}');
  });
});

describe("liveLeases (which leases count, by the server's clock in both directions)", () => {
  const docs = [
    lease({ _id: "live" }),
    lease({ _id: "stale", renewedAt: new Date(NOW - 6_001) }),
    lease({ _id: "just-live", renewedAt: new Date(NOW - 5_999) }),
    lease({ _id: "far-future", renewedAt: new Date(NOW + 3_600_000) }),
    lease({ _id: "tiny-lifetime", lifetimeMs: 1 }),
    lease({ _id: "non-date", renewedAt: "soon" }),
    lease({ _id: "long-lived", lifetimeMs: 600_000, renewedAt: new Date(NOW - 7_000) }),
  ];

  it("keeps the valid leases younger than their lifetime and reports the invalid ones", () => {
    const { live, lapsed, invalid } = liveLeases(docs, NOW, 6_000);
    expect(live.map((l: LeaseDoc) => l._id)).toEqual(["live", "just-live"]);
    expect(lapsed.map((l: LeaseDoc) => l._id)).toEqual(["stale", "long-lived"]);
    expect(invalid.map((i) => i.id)).toEqual(["far-future", "tiny-lifetime", "non-date"]);
  });

  it("believes a lease no longer than this member's own lifetime", () => {
    expect(liveLeases(docs, NOW, 600_000).live.map((l) => l._id)).toEqual([
      "live",
      "just-live",
      "long-lived",
    ]);
  });
});
