import { readFileSync } from "node:fs";
import { defineConfig } from "tsup";

const { version } = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8"));

// One build, two module formats: `import` gets ESM, `require` gets CommonJS.
export default defineConfig({
  entry: {
    index: "middleware/index.ts",
    sidecar: "sidecar/index.ts",
    cli: "sidecar/cli.ts",
  },
  format: ["esm", "cjs"],
  dts: { entry: { index: "middleware/index.ts", sidecar: "sidecar/index.ts" } },
  target: "node20",
  platform: "node",
  sourcemap: true,
  clean: true,
  splitting: true,
  shims: false,
  // auditq_build_info reports this (shared/build-info.ts).
  define: { __AUDITQ_VERSION__: JSON.stringify(version) },
});
