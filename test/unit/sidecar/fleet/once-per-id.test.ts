import { describe, expect, it } from "vitest";
import { OncePerId } from "../../../../sidecar/fleet/once-per-id.js";

describe("OncePerId", () => {
  it("says an id is due once per interval", () => {
    const once = new OncePerId(1_000);
    expect(once.due("a", 0)).toBe(true);
    expect(once.due("a", 999)).toBe(false);
    expect(once.due("b", 999)).toBe(true);
    expect(once.due("a", 1_000)).toBe(true);
    expect(once.due("a", 1_500)).toBe(false);
  });
});
