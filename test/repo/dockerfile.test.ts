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
  version: string;
  license: string;
  bin: Record<string, string>;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
};

/** A build argument's reference as the Dockerfile writes it: `${NAME}`. */
const dockerArg = (name: string) => `\${${name}}`;

interface Lock {
  packages: Record<
    string,
    { version?: string; dev?: boolean; dependencies?: Record<string, string> }
  >;
}
const rootLock = JSON.parse(read("package-lock.json")) as Lock;
const image = JSON.parse(read("deploy/docker/sidecar/package.json")) as {
  dependencies: Record<string, string>;
};
const imageLock = JSON.parse(read("deploy/docker/sidecar/package-lock.json")) as Lock;

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
  it("builds every stage on a current Node LTS slim image pinned by digest, runtime last", () => {
    const image = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1] ?? "";
    const pinned = /^node:(\d+)\.\d+\.\d+-\w+-slim@sha256:[0-9a-f]{64}$/.exec(image);
    expect(pinned, image).not.toBeNull();
    // Even majors are the LTS lines.
    expect(Number(pinned?.[1]) % 2).toBe(0);
    expect(Number(pinned?.[1])).toBeGreaterThanOrEqual(24);
    expect(runtime.name).toBe("runtime");
    const names = new Set(all.map((s) => s.name));
    for (const stage of all) {
      // Either the pinned image or an earlier stage of this file.
      if (!names.has(stage.from)) expect(stage.from, stage.name).toBe(dockerArg("NODE_IMAGE"));
    }
  });

  it("labels the image with the OCI annotations, its version package.json's", () => {
    const labels: Record<string, string> = {};
    for (const line of instruction(runtime, "LABEL")) {
      for (const [, key, value] of line.matchAll(/([\w.-]+)="([^"]*)"/g))
        labels[key as string] = value as string;
    }
    const oci = "org.opencontainers.image";
    expect(Object.keys(labels).sort()).toEqual(
      ["base.name", "description", "licenses", "revision", "title", "version"].map(
        (k) => `${oci}.${k}`,
      ),
    );
    expect(labels[`${oci}.licenses`]).toBe(pkg.license);
    const args = new Map(
      runtime.lines.flatMap((l) => {
        const m = /^ARG (\w+)(?:=(\S+))?$/.exec(l);
        return m ? [[m[1] as string, m[2]] as const] : [];
      }),
    );
    expect(labels[`${oci}.version`]).toBe(dockerArg("AUDITQ_VERSION"));
    expect(args.get("AUDITQ_VERSION")).toBe(pkg.version);
    expect(labels[`${oci}.base.name`]).toBe(dockerArg("NODE_IMAGE"));
    expect(args.has("NODE_IMAGE")).toBe(true);
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
    for (const path of copied) {
      expect(
        allowed.some((a) => path === a || path.startsWith(`${a}/`)),
        path,
      ).toBe(true);
    }
  });

  it("installs every package the sidecar imports into the production node_modules", () => {
    const installed = new Set(Object.keys(image.dependencies));
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

describe("the image's production dependencies (deploy/docker/sidecar)", () => {
  it("are installed with npm ci --omit=dev from their lockfile, nothing else installs", () => {
    const prodDeps = all.find((s) => s.name === "prod-deps") as Stage;
    expect(instruction(prodDeps, "COPY")).toEqual([
      "deploy/docker/sidecar/package.json deploy/docker/sidecar/package-lock.json ./",
    ]);
    expect(instruction(prodDeps, "RUN").join(" ")).toMatch(/^npm ci --omit=dev /);
    expect(dockerfile).not.toMatch(/npm (install|i) /);
    expect(dockerfile).not.toMatch(/npm pkg /);
  });

  it("are auditq's dependencies and every peer but express, at the root lockfile's versions", () => {
    const peers = Object.keys(pkg.peerDependencies).filter((n) => n !== "express");
    expect(Object.keys(image.dependencies).sort()).toEqual(
      [...Object.keys(pkg.dependencies), ...peers].sort(),
    );
    for (const [name, version] of Object.entries(image.dependencies)) {
      expect(version, name).toBe(rootLock.packages[`node_modules/${name}`]?.version);
    }
  });

  it("has a lockfile in step with its manifest and with the root lockfile, package by package", () => {
    expect(imageLock.packages[""]?.dependencies).toEqual(image.dependencies);
    const differ = Object.entries(imageLock.packages)
      .filter(([path]) => path !== "")
      .filter(([path, p]) => rootLock.packages[path]?.version !== p.version)
      .map(
        ([path, p]) =>
          `${path}: ${p.version} here, ${rootLock.packages[path]?.version} in the root`,
      );
    expect(Object.keys(imageLock.packages).length).toBeGreaterThan(10);
    expect(differ).toEqual([]);
    // Nothing in it is dev-only, so --omit=dev installs all of it.
    expect(Object.values(imageLock.packages).filter((p) => p.dev)).toEqual([]);
  });
});
