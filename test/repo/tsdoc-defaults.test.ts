// The TSDoc users read on hover (and in the shipped .d.ts) states the option table's defaults:
// every option with a plain default (number, boolean, string) names it in its doc comment.
import { readFileSync } from "node:fs";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import {
  MIDDLEWARE_OPTIONS,
  REDACT_OPTIONS,
  SPOOL_OPTIONS,
} from "../../middleware/config/option-table.js";
import type { OptionRow } from "../../shared/util/option-table.js";
import { SIDECAR_OPTIONS } from "../../sidecar/config/option-table.js";

/** The doc comment of each property of `interfaceName` in `file`. */
function propertyDocs(file: string, interfaceName: string): Map<string, string> {
  const path = new URL(`../../${file}`, import.meta.url);
  const source = ts.createSourceFile(
    file,
    readFileSync(path, "utf8"),
    ts.ScriptTarget.Latest,
    true,
  );
  const docs = new Map<string, string>();
  source.forEachChild((node) => {
    if (!ts.isInterfaceDeclaration(node) || node.name.text !== interfaceName) return;
    for (const member of node.members) {
      if (!ts.isPropertySignature(member)) continue;
      const comments = ts.getJSDocCommentsAndTags(member).filter(ts.isJSDoc);
      const text = comments.map((c) => ts.getTextOfJSDocComment(c.comment) ?? "").join(" ");
      docs.set(member.name.getText(source), text.replace(/\s+/g, " "));
    }
  });
  expect(docs.size, `${file} declares ${interfaceName}`).toBeGreaterThan(0);
  return docs;
}

/** How a plain default reads in a doc comment: `200`, `true`, `"br"`; undefined otherwise. */
function plainDefault(row: OptionRow<unknown>): string | undefined {
  if (row.kind !== "default") return undefined;
  const value = row.default;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (typeof value === "string") return JSON.stringify(value);
  return undefined;
}

const cases: [string, string, Record<string, OptionRow<unknown>>][] = [
  ["middleware/config/options.ts", "Options", MIDDLEWARE_OPTIONS],
  ["middleware/config/options.ts", "RedactOptions", REDACT_OPTIONS],
  ["middleware/config/options.ts", "SpoolOptions", SPOOL_OPTIONS],
  ["sidecar/config/options.ts", "SidecarOptions", SIDECAR_OPTIONS],
];

describe("TSDoc of the options", () => {
  it.each(cases)("%s %s names every plain default of the table", (file, name, table) => {
    const docs = propertyDocs(file, name);
    for (const [key, row] of Object.entries(table)) {
      const doc = docs.get(key);
      expect(doc, `${name}.${key} has a doc comment`).toBeTruthy();
      const value = plainDefault(row);
      if (value === undefined) continue;
      const said = new RegExp(
        `Default:? \`?${value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\`?(?!\\d|\\.\\d)`,
      );
      expect(doc, `${name}.${key} should say "Default ${value}"`).toMatch(said);
    }
  });

  it("states the SQS client auditq builds as the option table does", () => {
    // The table's `shown` is what clients.ts builds (docs/options.md says the same).
    const built = MIDDLEWARE_OPTIONS.sqs.shown.replaceAll("`", "");
    expect(built).toContain("maxAttempts: 1");
    expect(propertyDocs("middleware/config/options.ts", "Options").get("sqs")).toContain(built);
  });
});
