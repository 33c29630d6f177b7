// One long poll while the queue is light; every poller once receives come back full.
import { describe, expect, it } from "vitest";
import { PollDemand } from "../../../../sidecar/receive/poll-demand.js";

describe("PollDemand", () => {
  it("lets only the first poller receive until a receive comes back full", () => {
    let wakes = 0;
    const demand = new PollDemand(() => wakes++);
    expect([0, 1, 2].map((i) => demand.allows(i))).toEqual([true, false, false]);
    demand.received(3);
    expect(demand.allows(1)).toBe(false);
    expect(wakes).toBe(0);
    demand.received(10);
    expect([0, 1, 2].map((i) => demand.allows(i))).toEqual([true, true, true]);
    expect(wakes).toBe(1);
    // Still backlogged: no second wake-up for the same backlog.
    demand.received(10);
    expect(wakes).toBe(1);
    // The backlog is gone: the extra pollers stop after the polls they have open.
    demand.received(0);
    expect([0, 1].map((i) => demand.allows(i))).toEqual([true, false]);
    demand.received(10);
    expect(wakes).toBe(2);
  });
});
