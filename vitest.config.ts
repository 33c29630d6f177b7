import { readFileSync } from "node:fs";
import { defineConfig } from "vitest/config";

const { version } = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8"));

// Two projects: unit tests need nothing; every other test talks to real services, which
// test/global-setup.ts finds or starts once per run.
export default defineConfig({
  // The version auditq_build_info reports, as tsup.config.ts defines it for the build.
  define: { __AUDITQ_VERSION__: JSON.stringify(version) },
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores here: integration files share the services, so run files two at a time.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: "unit", include: ["test/unit/**/*.test.ts"] } },
      {
        extends: true,
        test: {
          name: "services",
          include: ["test/**/*.test.ts"],
          exclude: ["test/unit/**"],
          globalSetup: ["test/global-setup.ts"],
        },
      },
    ],
  },
});
