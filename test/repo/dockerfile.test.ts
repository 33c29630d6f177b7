// What can be checked of the sidecar image without Docker (which does not run where this is
// developed): the runtime stage starts dist/cli.js directly as a non-root user, its variables
// are real settings, the build context holds what the Dockerfile copies, and the production
// node_modules hold every package the sidecar imports.
import { readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { readConfig, SETTINGS } from "../../sidecar/cli/args.js";
import { DEFAULT_METRICS_PORT } from "../../sidecar/config/option-table.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const read = (path: string) => readFileSync(`${ROOT}${path}`, "utf8");
const pkg = JSON.parse(read("package.json")) as {
  bin: Record<string, string>;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
};

interface Stage {
  from: string;
  name: string;
  lines: string[];
}

/** The Dockerfile's stages, continuation lines joined, comments dropped. */
function stages(text: string): Stage[] {
  const lines = text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  const out: Stage[] = [];
  for (const line of lines) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) out.push({ from: from[1] as string, name: from[2] ?? "", lines: [] });
    else out.at(-1)?.lines.push(line);
  }
  return out;
}

const dockerfile = read("Dockerfile");
const all = stages(dockerfile);
const runtime = all.at(-1) as Stage;
const instruction = (stage: Stage, name: string) =>
  stage.lines
    .filter((l) => l.toUpperCase().startsWith(`${name} `))
    .map((l) => l.slice(name.length + 1).trim());

describe("the sidecar image (Dockerfile)", () => {
  it("builds on a current Node LTS slim image, with the runtime stage last (the default target)", () => {
    const version = /^ARG NODE_VERSION=(\d+)$/m.exec(dockerfile)?.[1];
    // Even majors are the LTS lines; auditq supports 20 and up.
    expect(Number(version) % 2).toBe(0);
    expect(Number(version)).toBeGreaterThanOrEqual(24);
    expect(runtime.name).toBe("runtime");
    for (const stage of all.filter((s) => !s.from.startsWith("build"))) {
      expect(stage.from).toMatch(/^node:\$\{NODE_VERSION\}-\w+-slim$/);
    }
  });

  it("starts dist/cli.js (the auditq-sidecar bin) with node as PID 1, no shell in between", () => {
    expect(instruction(runtime, "ENTRYPOINT").map((e) => JSON.parse(e))).toEqual([
      ["node", "dist/cli.js"],
    ]);
    expect(instruction(runtime, "CMD")).toEqual([]);
    expect(pkg.bin["auditq-sidecar"]).toBe("dist/cli.js");
    // tsup builds sidecar/cli/cli.ts as the `cli` entry; the package is ESM, so ESM lands in cli.js.
    expect(read("tsup.config.ts")).toMatch(/cli: "sidecar\/cli\/cli\.ts"/);
    expect(instruction(runtime, "STOPSIGNAL")).toEqual(["SIGTERM"]);
  });

  it("runs as a numeric non-root user and writes nothing to its filesystem", () => {
    const [user] = instruction(runtime, "USER");
    expect(user).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    expect(instruction(runtime, "VOLUME")).toEqual([]);
  });

  it("sets only real settings, with values the CLI accepts, and exposes the metrics port", () => {
    const env: Record<string, string> = {};
    for (const line of instruction(runtime, "ENV")) {
      for (const [, key, value] of line.matchAll(/(\w+)=(\S+)/g))
        env[key as string] = value as string;
    }
    const known = new Set([...SETTINGS.map((s) => s.env), "NODE_ENV"]);
    expect(Object.keys(env).filter((k) => !known.has(k))).toEqual([]);
    expect(env.AUDITQ_METRICS_PORT).toBe(String(DEFAULT_METRICS_PORT));
    const config = readConfig({
      ...env,
      AUDITQ_QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/audit",
      AUDITQ_MONGODB_URI: "mongodb://db:27017/",
    });
    expect(instruction(runtime, "EXPOSE")).toEqual([String(config.metricsPort)]);
  });

  it("copies into the build context only what .dockerignore lets through", () => {
    const allowed = read(".dockerignore")
      .split("\n")
      .filter((l) => l.startsWith("!"))
      .map((l) => l.slice(1).replace(/\/$/, ""));
    const copied = all
      .flatMap((s) => instruction(s, "COPY"))
      .filter((c) => !c.startsWith("--from"))
      .flatMap((c) => c.split(/\s+/).slice(0, -1));
    expect(copied.length).toBeGreaterThan(0);
    for (const path of copied) expect(allowed, path).toContain(path);
  });

  it("installs every package the sidecar imports into the production node_modules", () => {
    // deploy/docker/prod-deps.sh: the dependencies, plus every peer but express moved into them.
    expect(read("deploy/docker/prod-deps.sh")).toMatch(/n !== "express"/);
    const peers = Object.keys(pkg.peerDependencies).filter((n) => n !== "express");
    const installed = new Set([...Object.keys(pkg.dependencies), ...peers]);
    const builtin = new Set(builtinModules);
    for (const dir of ["sidecar", "shared"]) {
      for (const file of readdirSync(`${ROOT}${dir}`).filter((f) => f.endsWith(".ts"))) {
        const source = read(`${dir}/${file}`);
        for (const [, what, spec] of source.matchAll(/^import (type )?[^;]*?from "([^"]+)";/gms)) {
          const name = (spec as string)
            .replace(/^node:/, "")
            .split("/")
            .slice(0, (spec as string).startsWith("@") ? 2 : 1)
            .join("/");
          if (what || (spec as string).startsWith(".") || builtin.has(name)) continue;
          expect(installed, `${dir}/${file} imports ${spec}`).toContain(name);
        }
      }
    }
  });
});
