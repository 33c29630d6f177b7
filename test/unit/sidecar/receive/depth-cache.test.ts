import { describe, expect, it } from "vitest";
import { DepthCache, type QueueDepth } from "../../../../sidecar/receive/depth-cache.js";

const DEPTH: QueueDepth = { visible: 3, inflight: 1, delayed: 0 };

function cache(result: () => QueueDepth | undefined) {
  let clock = 0;
  let reads = 0;
  let failures = 0;
  let release: (() => void) | undefined;
  const c = new DepthCache(
    () =>
      new Promise((resolve) => {
        reads++;
        release = () => resolve(result());
      }),
    () => failures++,
    5_000,
    () => clock,
  );
  return {
    c,
    reads: () => reads,
    failures: () => failures,
    finish: () => release?.(),
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

describe("DepthCache", () => {
  it("shares one read among 300 concurrent callers and reuses it for maxAgeMs", async () => {
    const t = cache(() => DEPTH);
    const all = Array.from({ length: 300 }, () => t.c.get());
    t.finish();
    expect(await Promise.all(all)).toEqual(Array(300).fill(DEPTH));
    expect(t.reads()).toBe(1);
    t.advance(4_999);
    expect(await t.c.get()).toEqual(DEPTH);
    expect(t.reads()).toBe(1);
    t.advance(1);
    const next = t.c.get();
    t.finish();
    await next;
    expect(t.reads()).toBe(2);
  });

  it("counts a failed read once and serves no value (not a stale one) until the next read", async () => {
    let ok = true;
    const t = cache(() => (ok ? DEPTH : undefined));
    const first = t.c.get();
    t.finish();
    expect(await first).toEqual(DEPTH);
    ok = false;
    t.advance(5_000);
    const failed = Promise.all([t.c.get(), t.c.get()]);
    t.finish();
    expect(await failed).toEqual([undefined, undefined]);
    expect(t.failures()).toBe(1);
    expect(await t.c.get()).toBeUndefined(); // the failure is cached too: SQS is not hammered
    expect(t.reads()).toBe(2);
  });
});
