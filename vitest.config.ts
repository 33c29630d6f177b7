import { readFileSync } from "node:fs";
import { defineConfig } from "vitest/config";

const { version } = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8"));

// Four projects. `unit` (test/unit, mirroring the source tree) and `repo` (the repository's
// files checked against each other: docs, manifests, alert rules) need no service. `services`
// (test/http, test/integration) talks to the real services that test/global-setup.ts finds or
// starts once per run; `slow` is the part of it that runs on real time (rate windows of seconds,
// outages, kills), kept apart so that it can be run, or left out, on its own.
const SLOW = ["test/integration/slow/**/*.test.ts"];

// AUDITQ_TEST_REPORT=FILE also writes the results as JSON, so that .ci/run can end a failed
// run with the failed tests (scripts/test-failures.mjs) after the services' logs.
const report = process.env.AUDITQ_TEST_REPORT;

export default defineConfig({
  // The version auditq_build_info reports, as tsup.config.ts defines it for the build.
  define: { __AUDITQ_VERSION__: JSON.stringify(version) },
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores here: integration files share the services, so run files two at a time.
    maxWorkers: 2,
    ...(report ? { reporters: ["default", ["json", { outputFile: report }]] } : {}),
    projects: [
      { extends: true, test: { name: "unit", include: ["test/unit/**/*.test.ts"] } },
      { extends: true, test: { name: "repo", include: ["test/repo/**/*.test.ts"] } },
      {
        extends: true,
        test: {
          name: "services",
          include: ["test/http/**/*.test.ts", "test/integration/**/*.test.ts"],
          exclude: SLOW,
          globalSetup: ["test/global-setup.ts"],
        },
      },
      {
        extends: true,
        test: { name: "slow", include: SLOW, globalSetup: ["test/global-setup.ts"] },
      },
    ],
  },
});
