import { readFileSync } from "node:fs";
import { defineConfig } from "tsup";

const { version } = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8"));

const common = {
  target: "node22",
  platform: "node",
  sourcemap: true,
  splitting: true,
  shims: false,
  // auditq_build_info reports this (shared/util/build-info.ts).
  define: { __AUDITQ_VERSION__: JSON.stringify(version) },
  // `err.constructor.name` stays `ConfigError` in the CommonJS build too (not `_class2`).
  keepNames: true,
} as const;

export default defineConfig([
  // The library, in two module formats: `import` gets ESM, `require` gets CommonJS.
  {
    ...common,
    entry: {
      index: "middleware/index.ts",
      sidecar: "sidecar/index.ts",
      reader: "sidecar/read/index.ts",
      viewer: "sidecar/viewer/index.ts",
    },
    format: ["esm", "cjs"],
    // `@internal` members (AuditContext's state) are left out of the published types.
    dts: { compilerOptions: { stripInternal: true } },
    clean: true,
  },
  // The auditq-sidecar and auditq commands: ESM only, as their bins run them.
  {
    ...common,
    entry: { cli: "sidecar/cli/cli.ts", auditq: "sidecar/cli/auditq.ts" },
    format: ["esm"],
    clean: false,
  },
]);
