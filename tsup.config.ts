import { defineConfig } from "tsup";

const common = {
  target: "node20",
  platform: "node",
  sourcemap: true,
  splitting: true,
  shims: false,
  // `err.constructor.name` stays `ConfigError` in the CommonJS build too (not `_class2`).
  keepNames: true,
} as const;

export default defineConfig([
  // The library, in two module formats: `import` gets ESM, `require` gets CommonJS.
  {
    ...common,
    entry: { index: "middleware/index.ts", sidecar: "sidecar/index.ts" },
    format: ["esm", "cjs"],
    // `@internal` members (AuditContext's state) are left out of the published types.
    dts: { compilerOptions: { stripInternal: true } },
    clean: true,
  },
  // The auditq-sidecar command: ESM only, as its bin runs it.
  {
    ...common,
    entry: { cli: "sidecar/cli.ts" },
    format: ["esm"],
    clean: false,
  },
]);
