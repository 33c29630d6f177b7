import { describe, expect, it } from "vitest";
import { didYouMean, distance, nearest } from "../../../../shared/util/nearest.js";

const SETTINGS = [
  { name: "AUDITQ_MAX_WRITE_RATE", aliases: ["AUDITQ_WRITE_RATE"] },
  { name: "AUDITQ_MONGODB_URI", aliases: ["AUDITQ_MONGO_URI"] },
  { name: "AUDITQ_BULK_SIZE" },
];

describe("nearest", () => {
  it("counts edits", () => {
    expect(distance("kitten", "sitting")).toBe(3);
    expect(distance("", "abc")).toBe(3);
    expect(distance("same", "same")).toBe(0);
  });

  it("finds a misspelling without case and without the shared prefix", () => {
    const strict = { prefix: "AUDITQ_", how: "strict" } as const;
    expect(nearest("AUDITQ_MAX_WRITE_RAT", SETTINGS, strict)).toBe("AUDITQ_MAX_WRITE_RATE");
    expect(nearest("auditq_bulk_siz", SETTINGS, { prefix: "auditq_" })).toBe("AUDITQ_BULK_SIZE");
    expect(nearest("lingerMS", [{ name: "lingerMs" }])).toBe("lingerMs");
  });

  it("finds an alias however far its spelling is", () => {
    expect(nearest("AUDITQ_WRITE_RATE", SETTINGS, { prefix: "AUDITQ_", how: "strict" })).toBe(
      "AUDITQ_MAX_WRITE_RATE",
    );
  });

  it("is strict where a match becomes an error, loose for a hint", () => {
    const name = "AUDITQ_TEST_MONGODB_URI";
    expect(nearest(name, SETTINGS, { prefix: "AUDITQ_", how: "strict" })).toBeUndefined();
    expect(nearest("--max-write-speed", [{ name: "--max-write-rate" }], { prefix: "--" })).toBe(
      "--max-write-rate",
    );
    expect(nearest("AUDITQ_ZEBRA", SETTINGS, { prefix: "AUDITQ_" })).toBeUndefined();
  });

  it("words the hint", () => {
    expect(didYouMean("x")).toBe("; did you mean x?");
    expect(didYouMean(undefined)).toBe("");
  });
});
