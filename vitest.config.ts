import { defineConfig } from "vitest/config";

// Two projects: unit tests need nothing; every other test talks to real services, which
// test/global-setup.ts finds or starts once per run.
export default defineConfig({
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
