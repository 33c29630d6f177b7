// The fenced code blocks of README.md and docs/*.md, with the marker that says how the snippet
// tests treat each (docs/contributing.md#snippets-in-the-docs): every block is checked as
// written unless an HTML comment right above it says it is a fragment or a server.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Languages a block may have; a block without one is refused (say `text` for plain text). */
export const LANGUAGES = ["ts", "js", "sh", "json", "yaml", "text"] as const;

export interface DocBlock {
  /** `README.md`, `docs/sidecar.md`: relative to the repository's root. */
  readonly doc: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** The fence's info string: `ts`, `sh`, ... ("" when none). */
  readonly lang: string;
  readonly code: string;
  /**
   * From the comment on the line above: `fragment` (part of a program; `see` names the full
   * version), `server` (a program that runs until SIGTERM), or `program` (none: runs as is).
   */
  readonly kind: "program" | "fragment" | "server";
  /** For a fragment: the file or doc that holds the runnable whole. */
  readonly see?: string;
  /** A marker comment above the block that is none of the known ones. */
  readonly badMarker?: string;
}

/** `README.md:52 (ts block)`: where a failure message points. */
export const where = (b: DocBlock) => `${b.doc}:${b.line} (${b.lang || "untagged"} block)`;

/** Every doc with code blocks: the README and docs/*.md (generated options.md included). */
function docFiles(): string[] {
  const docs = readdirSync(join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`);
  return ["README.md", ...docs.sort()];
}

const MARKER = /^<!--\s*(.*?)\s*-->$/;

/** The blocks of one doc, in order. */
function blocksOf(doc: string): DocBlock[] {
  const lines = readFileSync(join(ROOT, doc), "utf8").split("\n");
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(```+|~~~+)\s*([\w-]*)/.exec(lines[i] as string);
    if (!open) continue;
    const fence = open[2] as string;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !(lines[i] as string).trim().startsWith(fence); i++) {
      body.push(lines[i] as string);
    }
    const above = (lines[start - 1] ?? "").trim();
    const marker = MARKER.exec(above)?.[1];
    let kind: DocBlock["kind"] = "program";
    let see: string | undefined;
    let badMarker: string | undefined;
    if (marker !== undefined) {
      const fragment = /^fragment: see (\S+)$/.exec(marker);
      if (fragment) {
        kind = "fragment";
        see = fragment[1];
      } else if (marker === "server") kind = "server";
      else badMarker = marker;
    }
    blocks.push({
      doc,
      line: start + 1,
      lang: open[3] ?? "",
      code: `${body.join("\n")}\n`,
      kind,
      ...(see === undefined ? {} : { see }),
      ...(badMarker === undefined ? {} : { badMarker }),
    });
  }
  return blocks;
}

/** Every block of every doc. */
export function allBlocks(): DocBlock[] {
  return docFiles().flatMap(blocksOf);
}

/**
 * Each entry point of the package (`auditq`, `auditq/sidecar`, ...) mapped to its source file:
 * package.json's `exports` name the built files, tsup.config.ts's entries their sources.
 */
function packageSources(): Record<string, string[]> {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  const tsup = readFileSync(join(ROOT, "tsup.config.ts"), "utf8");
  const paths: Record<string, string[]> = {};
  for (const [subpath, target] of Object.entries(pkg.exports as Record<string, unknown>)) {
    const built = JSON.stringify(target).match(/"\.\/dist\/([\w-]+)\.js"/)?.[1];
    const source = built && new RegExp(`\\b${built}: "([^"]+)"`).exec(tsup)?.[1];
    if (source) paths[`${pkg.name}${subpath.slice(1)}`] = [join(ROOT, source)];
  }
  return paths;
}

/**
 * Writes `blocks` into `dir` as ES modules (`README_md_52.mts`) with a tsconfig that is strict
 * and maps the package's entry points (`auditq`, `auditq/sidecar`, ...) to the source, as a user's app would see them; tsc and
 * tsx both read it. Returns the blocks by file name.
 */
export function writeSnippets(dir: string, blocks: readonly DocBlock[]): Map<string, DocBlock> {
  mkdirSync(dir, { recursive: true });
  const files = new Map<string, DocBlock>();
  for (const b of blocks) {
    const name = `${b.doc.replace(/\W/g, "_")}_${b.line}.mts`;
    files.set(name, b);
    writeFileSync(join(dir, name), b.code);
  }
  const tsconfig = {
    compilerOptions: {
      target: "ES2022",
      lib: ["ES2023"],
      module: "NodeNext",
      moduleResolution: "NodeNext",
      types: ["node"],
      strict: true,
      skipLibCheck: true,
      noEmit: true,
      paths: packageSources(),
    },
    files: [...files.keys()],
  };
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(tsconfig, null, 2));
  return files;
}
