// docs/options.md is what `npm run docs` writes from the option tables now: a default, a range or
// a meaning changed in code and not regenerated, or the page edited by hand, fails here.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  MIDDLEWARE_OPTIONS,
  REDACT_OPTIONS,
  SERVICE_OPTIONS,
  SPOOL_OPTIONS,
} from "../../middleware/config/option-table.js";
import { optionsDoc } from "../../scripts/docs.js";
import { CLI_OPTIONS, SIDECAR_OPTIONS } from "../../sidecar/config/option-table.js";

const PAGE = readFileSync(new URL("../../docs/options.md", import.meta.url), "utf8");

/** The option names in the first column of every table row of `text`, in order. */
const optionNames = (text: string) =>
  [...text.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1] as string);

describe("docs/options.md", () => {
  it("is what npm run docs generates from the option tables (run it after changing one)", () => {
    expect(PAGE).toBe(optionsDoc());
  });

  it("has a row for every option of the tables, nested ones after their parent", () => {
    const nested = (prefix: string, table: object) =>
      Object.keys(table).map((key) => `${prefix}.${key}`);
    const middleware = Object.keys(MIDDLEWARE_OPTIONS).flatMap((key) => [
      key,
      ...(key === "redact" ? nested(key, REDACT_OPTIONS) : []),
      ...(key === "service" ? nested(key, SERVICE_OPTIONS) : []),
      ...(key === "spool" ? nested(key, SPOOL_OPTIONS) : []),
    ]);
    const sidecar = Object.keys({ ...SIDECAR_OPTIONS, ...CLI_OPTIONS });
    expect(optionNames(PAGE)).toEqual([...middleware, ...sidecar]);
  });
});
