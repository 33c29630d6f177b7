// A packed digest's `n` as ranges: every sorted list of numbers comes back whole, and ranges that
// do not stand for one number per id are refused with a reason.
import { Double, Int32 } from "bson";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromRanges, toRanges } from "../../../../sidecar/verify/n-ranges.js";

describe("n ranges", () => {
  it("write a message's run of numbers as one range", () => {
    expect(toRanges([7, 8, 9, 10])).toEqual([7, 10]);
    expect(toRanges([1, 2, 5, 6, 6, 9])).toEqual([1, 2, 5, 6, 6, 6, 9, 9]);
    expect(toRanges([])).toEqual([]);
  });

  it("give back every sorted list of numbers, duplicates and gaps included", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 60 }), { maxLength: 40 }),
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER - 3000 }),
        (steps, base) => {
          let n = base;
          const ns = steps.map((step) => {
            n += step % 3 === 0 ? step : step % 2; // runs, repeats and gaps
            return n;
          });
          expect(fromRanges(toRanges(ns), ns.length)).toEqual(ns);
        },
      ),
    );
  });

  it("read BSON numbers as a read with promoteValues: false returns them", () => {
    expect(fromRanges([new Int32(3), new Double(5)], 3)).toEqual([3, 4, 5]);
  });

  it.each([
    ["not a list", { first: 1 }, 1, /not a list of ranges/],
    ["an odd count", [1, 2, 3], 2, /not a list of ranges/],
    ["a string", ["1", 2], 2, /not whole numbers/],
    ["a fraction", [1.5, 2], 1, /not whole numbers/],
    ["a range backwards", [5, 3], 3, /not in ascending order/],
    ["ranges out of order", [5, 6, 1, 2], 4, /not in ascending order/],
    ["fewer numbers than ids", [1, 3], 4, /fewer numbers than ids/],
    ["more numbers than ids", [1, 2 ** 52], 500, /more numbers than ids/],
  ])("refuse %s", (_what, ranges, count, reason) => {
    expect(fromRanges(ranges, count)).toMatch(reason);
  });
});
