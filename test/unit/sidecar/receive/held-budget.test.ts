import { describe, expect, it } from "vitest";
import { fitsBesideHeld } from "../../../../sidecar/receive/held-budget.js";

describe("fitsBesideHeld", () => {
  const limits = { records: 100, bytes: 1000 };

  it("takes a message in only when its records and bytes fit beside what is held", () => {
    expect(fitsBesideHeld({ records: 60, bytes: 10 }, { records: 40, bytes: 10 }, limits)).toBe(
      true,
    );
    expect(fitsBesideHeld({ records: 60, bytes: 10 }, { records: 41, bytes: 10 }, limits)).toBe(
      false,
    );
    expect(fitsBesideHeld({ records: 1, bytes: 900 }, { records: 1, bytes: 101 }, limits)).toBe(
      false,
    );
  });

  it("takes one message alone, however large, when nothing is held", () => {
    expect(fitsBesideHeld({ records: 0, bytes: 0 }, { records: 500, bytes: 5000 }, limits)).toBe(
      true,
    );
  });
});
