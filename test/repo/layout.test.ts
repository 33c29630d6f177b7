// The source tree keeps its shape: no file of middleware/, sidecar/ or shared/ over 300 lines,
// and each opens with a comment line that says what it is for (after a shebang, if any).
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const MAX_LINES = 300;

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts"))
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)))
    .sort();
}

const FILES = ["middleware", "sidecar", "shared"].flatMap(sourceFiles);

describe("the source tree", () => {
  it("has files to check", () => {
    expect(FILES.length).toBeGreaterThan(100);
  });

  it.each(FILES)(`%s has at most ${MAX_LINES} lines`, (file) => {
    const lines = readFileSync(join(ROOT, file), "utf8").split("\n");
    if (lines.at(-1) === "") lines.pop();
    expect(lines.length).toBeLessThanOrEqual(MAX_LINES);
  });

  it.each(FILES)("%s opens with a one-line comment of its role", (file) => {
    const lines = readFileSync(join(ROOT, file), "utf8").split("\n");
    const first = lines[0]?.startsWith("#!") ? lines[1] : lines[0];
    expect(first).toMatch(/^\/\/ \S/);
  });
});
