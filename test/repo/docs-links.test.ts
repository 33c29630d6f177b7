// The docs point at things that exist: every relative link of the README, the changelog and
// docs/ reaches a file (and a heading, when it names one), and every repository path they cite
// in backticks is in the tree. A file moved or a heading renamed without the docs fails here.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const PAGES = [
  "README.md",
  "CHANGELOG.md",
  ...readdirSync(join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];

/** The page without its fenced code blocks, where `#` starts a comment, not a heading. */
const prose = (page: string) =>
  readFileSync(join(ROOT, page), "utf8").replace(/^```[^\n]*\n[\s\S]*?^```$/gm, "");

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function slug(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** The anchors of a page's headings, numbered as GitHub numbers repeated ones. */
function anchors(page: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const [, text] of prose(page).matchAll(/^#{1,6} (.+)$/gm)) {
    const base = slug(text as string);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Folders whose paths the docs cite in backticks (`middleware/spool/writer.ts`). */
const CITED = /^(middleware|sidecar|shared|test|bench|scripts|deploy|docs|\.ci)\/[\w./-]*$/;

describe.each(PAGES)("%s", (page) => {
  const text = prose(page);

  it("links only to files and headings that exist", () => {
    const broken: string[] = [];
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target as string)) continue; // https:, mailto:
      const [path = "", anchor] = (target as string).split("#");
      const file = path === "" ? page : relative(ROOT, join(ROOT, dirname(page), path));
      if (!existsSync(join(ROOT, file))) broken.push(`${target}: no file ${file}`);
      else if (anchor !== undefined && file.endsWith(".md") && !anchors(file).has(anchor))
        broken.push(`${target}: no heading #${anchor} in ${file}`);
    }
    expect(broken).toEqual([]);
  });

  it("cites only repository paths that exist", () => {
    const missing = [...text.matchAll(/`([^`\n]+)`/g)]
      .map((m) => m[1] as string)
      .filter((span) => CITED.test(span) && !existsSync(join(ROOT, span)));
    expect(missing).toEqual([]);
  });
});
