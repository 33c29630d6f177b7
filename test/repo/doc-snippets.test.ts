// Every code block in README.md and docs/*.md is checked as written (the convention:
// docs/contributing.md#snippets-in-the-docs): TypeScript blocks type-check under strict as
// modules of their own against the source (`auditq` is middleware/index.ts), shell blocks parse,
// JSON and YAML blocks parse; a fragment names a file that holds its runnable whole.
// test/integration/doc-snippets-run.test.ts runs the TypeScript programs against the services.
import { execFile, spawnSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { allBlocks, LANGUAGES, ROOT, where, writeSnippets } from "../helpers/doc-blocks.js";

const run = promisify(execFile);
const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");
const HOW = "see docs/contributing.md#snippets-in-the-docs";
const blocks = allBlocks();

describe("code blocks in the docs", () => {
  it("each has a language and, if any, a known marker above it", () => {
    const problems = blocks.flatMap((b) => [
      ...(LANGUAGES.includes(b.lang as (typeof LANGUAGES)[number])
        ? []
        : [
            `${where(b)}: no known language after the fence (one of ${LANGUAGES.join(", ")}); ${HOW}`,
          ]),
      ...(b.badMarker === undefined
        ? []
        : [
            `${where(b)}: the comment above it, <!-- ${b.badMarker} -->, is no marker: use <!-- fragment: see PATH --> or <!-- server -->; ${HOW}`,
          ]),
      ...(b.kind === "fragment" &&
      !existsSync(join(ROOT, (b.see as string).split("#")[0] as string))
        ? [`${where(b)}: its fragment marker names ${b.see}, which does not exist; ${HOW}`]
        : []),
      ...(b.kind !== "program" && !["ts", "js"].includes(b.lang)
        ? [`${where(b)}: only ts and js blocks take a marker; ${HOW}`]
        : []),
    ]);
    expect(problems).toEqual([]);
  });

  it.each(blocks.filter((b) => b.lang === "sh").map((b) => [where(b), b] as const))(
    "%s parses as shell",
    (_, b) => {
      const check = spawnSync("bash", ["-n"], { input: b.code, encoding: "utf8" });
      expect(check.stderr, `${where(b)}: bash -n says`).toBe("");
    },
  );

  it.each(
    blocks.filter((b) => b.lang === "json" || b.lang === "yaml").map((b) => [where(b), b] as const),
  )("%s parses", (_, b) => {
    expect(
      () => (b.lang === "json" ? JSON.parse(b.code) : parseYaml(b.code)),
      `${where(b)}: a ${b.lang} block must parse as a whole (show a part of a record inside its braces); ${HOW}`,
    ).not.toThrow();
  });

  const programs = blocks.filter((b) => b.lang === "ts" && b.kind !== "fragment");
  const dir = join(ROOT, ".cache", `doc-snippets-tsc-${process.pid}`);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("TypeScript programs type-check under strict, each as written", {
    timeout: 240_000,
  }, async () => {
    const files = writeSnippets(dir, programs);
    const output = await run(process.execPath, [TSC, "-p", dir]).then(
      ({ stdout }) => stdout,
      (err: { stdout?: string }) => err.stdout ?? String(err),
    );
    // `README_md_52.mts(3,5): error TS2304: ...` → `README.md:55 (ts block): error TS2304: ...`
    const problems = output
      .split("\n")
      .filter((line) => line.trim() !== "" && !line.startsWith(" "))
      .map((line) => {
        const m = /^(?:\S*\/)?([^/\s]+\.mts)\((\d+),(\d+)\): (.*)$/.exec(line);
        const b = m ? files.get(m[1] as string) : undefined;
        if (!m || !b) return line;
        return `${b.doc}:${b.line + Number(m[2])} (${b.lang} block at line ${b.line}): ${m[4]} — the block must compile as written, or be marked <!-- fragment: see PATH --> with a runnable whole at PATH; ${HOW}`;
      });
    expect(problems).toEqual([]);
  });
});
