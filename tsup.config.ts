import { defineConfig } from "tsup";

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
});
