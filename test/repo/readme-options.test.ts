// The README's option tables state the option tables' facts, row by row: a default, a range or
// a meaning changed in code and not in the README (or the other way round) fails here. A
// failure prints the row the README should have.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  MIDDLEWARE_OPTIONS,
  REDACT_OPTIONS,
  SERVICE_OPTIONS,
  SPOOL_OPTIONS,
} from "../../middleware/config/option-table.js";
import type { OptionRow } from "../../shared/util/option-table.js";
import { SETTINGS } from "../../sidecar/cli/args.js";
import { CLI_OPTIONS, SIDECAR_OPTIONS } from "../../sidecar/config/option-table.js";

const README = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

/** The cells of each row of the first table under `## heading`, header and rule left out. */
function readmeRows(heading: string): string[][] {
  const start = README.indexOf(`\n## ${heading}\n`);
  expect(start, `README has a "## ${heading}" section`).toBeGreaterThan(-1);
  const end = README.indexOf("\n## ", start + 1);
  const lines = README.slice(start, end === -1 ? undefined : end).split("\n");
  const first = lines.findIndex((l) => l.startsWith("|"));
  const table: string[] = [];
  for (const line of lines.slice(first)) {
    if (!line.startsWith("|")) break;
    table.push(line);
  }
  return table.slice(2).map(cells);
}

/** Splits a Markdown table row on unescaped pipes; cells trimmed, `\|` kept as written. */
function cells(line: string): string[] {
  return line
    .slice(1, -1)
    .split(/(?<!\\)\|/)
    .map((c) => c.trim());
}

const md = (text: string) => text.replaceAll("|", "\\|");

function typeCell(row: OptionRow<unknown>): string {
  const { type, range } = row.rule;
  return `\`${md(type)}\`${range === undefined ? "" : ` ${range}`}`;
}

type Table = Record<string, OptionRow<unknown>>;

function entries(table: Table, prefix = ""): [string, OptionRow<unknown>][] {
  return Object.entries(table).map(([key, row]) => [prefix + key, row]);
}

const render = (row: string[]) => `| ${row.join(" | ")} |`;

function expectRows(actual: string[][], expected: string[][]): void {
  const names = (rows: string[][]) => rows.map((r) => r[0]);
  expect(names(actual), "the README lists the same options, in the same order").toEqual(
    names(expected),
  );
  for (const [i, want] of expected.entries()) {
    expect(actual[i], `README row should read:\n${render(want)}\n`).toEqual(want);
  }
}

describe("README option tables", () => {
  it("match the middleware's option table", () => {
    const nested: Record<string, Table> = {
      redact: REDACT_OPTIONS,
      service: SERVICE_OPTIONS,
      spool: SPOOL_OPTIONS,
    };
    const expected: string[][] = [];
    for (const [key, row] of entries(MIDDLEWARE_OPTIONS)) {
      expected.push([`\`${key}\``, typeCell(row), md(row.shown), md(row.doc)]);
      const inner = nested[key];
      if (inner === undefined) continue;
      for (const [name, sub] of entries(inner, `${key}.`)) {
        expected.push([`\`${name}\``, typeCell(sub), md(sub.shown), md(sub.doc)]);
      }
    }
    expectRows(readmeRows("Middleware options"), expected);
  });

  it("match the sidecar's option table and the command's settings", () => {
    const cli = new Map(SETTINGS.map((s) => [s.key, s]));
    const expected = entries({ ...SIDECAR_OPTIONS, ...CLI_OPTIONS }).map(([key, row]) => {
      const s = cli.get(key);
      const names =
        s === undefined
          ? "—"
          : `\`${s.env}\` \`${s.flag}\`${s.kind === "bool" ? ` \`--no-${s.flag.slice(2)}\`` : ""}`;
      return [`\`${key}\``, names, typeCell(row), md(row.shown), md(row.doc)];
    });
    expectRows(readmeRows("Sidecar settings"), expected);
  });
});
