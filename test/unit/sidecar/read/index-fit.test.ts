// Index fitness: every query the reader can issue has an index among the sidecar's defaults that
// serves it by MongoDB's ESR rule (equality fields, then the sort key, then ranges), so no page
// needs a collection scan or an in-memory sort. Adding a filter without its index fails here.
import { describe, expect, it } from "vitest";
import { SIDECAR_OPTIONS } from "../../../../sidecar/config/option-table.js";
import type { IndexKeys } from "../../../../sidecar/config/options.js";
import {
  FILTER_FIELDS,
  normalizeFilter,
  type ReadFilter,
} from "../../../../sidecar/read/filter.js";
import { buildQuery, type QueryShape } from "../../../../sidecar/read/query.js";
import { idAt } from "../../../helpers/read-records.js";

/** Sample values of every filter field, each value giving a different query shape. */
const SAMPLES: Record<(typeof FILTER_FIELDS)[number], unknown[]> = {
  actor: ["alice"],
  action: ["login"],
  target: [{ type: "order" }, { id: "1" }, { type: "order", id: "1" }],
  status: [404, "5xx", "failed"],
  from: [new Date("2026-01-01T00:00:00Z")],
  to: ["2026-02-01T00:00:00Z"],
  service: ["shop"],
  requestId: ["r-1"],
  tenant: ["acme"],
};

/** Every filter: each field absent or one of its samples. */
function* filters(
  fields = Object.keys(SAMPLES) as (keyof typeof SAMPLES)[],
): Generator<ReadFilter> {
  const [first, ...rest] = fields;
  if (first === undefined) {
    yield {};
    return;
  }
  for (const tail of filters(rest)) {
    yield tail;
    for (const value of SAMPLES[first]) yield { ...tail, [first]: value };
  }
}

/** MongoDB's own index on `_id`, always there. */
const ID_INDEX: IndexKeys = { _id: 1 };

/**
 * Whether `index` serves `shape` by the ESR rule: its keys are fields the query matches by
 * equality, then `_id` (the sort, so no in-memory sort), then only fields with a range. A query
 * with equality fields needs at least one of them in front, so that the index narrows the scan.
 */
function serves(index: IndexKeys, shape: QueryShape): boolean {
  const keys = Object.keys(index);
  const sortAt = keys.indexOf(shape.sort);
  if (sortAt < 0) return false;
  const equality = keys.slice(0, sortAt);
  if (!equality.every((k) => shape.equality.includes(k))) return false;
  if (shape.equality.length > 0 && equality.length === 0) return false;
  return keys.slice(sortAt + 1).every((k) => shape.range.includes(k));
}

function unserved(indexes: readonly IndexKeys[]): { filter: ReadFilter; shape: QueryShape }[] {
  const out: { filter: ReadFilter; shape: QueryShape }[] = [];
  const after = idAt(new Date("2026-01-15T00:00:00Z"));
  for (const filter of filters()) {
    const normalized = normalizeFilter(filter);
    for (const order of ["desc", "asc"] as const) {
      for (const position of [undefined, after]) {
        const { shape } = buildQuery(normalized, order, position);
        if (![ID_INDEX, ...indexes].some((index) => serves(index, shape)))
          out.push({ filter, shape });
      }
    }
  }
  return out;
}

const DEFAULTS = SIDECAR_OPTIONS.indexes.default;

describe("the sidecar's default indexes serve every query of the reader", () => {
  it("has samples for every filter field the reader accepts", () => {
    expect(Object.keys(SAMPLES).sort()).toEqual([...FILTER_FIELDS].sort());
  });

  it("serves every filter combination, in both orders, with and without a cursor", () => {
    const missing = unserved(DEFAULTS);
    expect(missing.slice(0, 5), `${missing.length} query shapes have no index`).toEqual([]);
  });

  it("needs each of its read indexes: without any one, some filter is unserved", () => {
    const read = DEFAULTS.filter((keys) => "_id" in keys);
    for (const index of read) {
      const without = DEFAULTS.filter((keys) => keys !== index);
      expect(unserved(without).length, JSON.stringify(index)).toBeGreaterThan(0);
    }
  });

  it("the ESR check refuses a sort after a range, a field before _id that is not matched, and no equality prefix", () => {
    const shape: QueryShape = { equality: ["actor.id"], sort: "_id", range: ["ts"] };
    expect(serves({ "actor.id": 1, _id: -1 }, shape)).toBe(true);
    expect(serves({ "actor.id": 1, _id: -1, ts: 1 }, shape)).toBe(true);
    expect(serves({ "actor.id": 1, ts: -1 }, shape)).toBe(false);
    expect(serves({ "actor.id": 1, ts: -1, _id: -1 }, shape)).toBe(false);
    expect(serves({ action: 1, _id: -1 }, shape)).toBe(false);
    expect(serves(ID_INDEX, shape)).toBe(false);
    expect(serves(ID_INDEX, { equality: [], sort: "_id", range: ["outcome.status"] })).toBe(true);
  });
});
