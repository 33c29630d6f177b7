#!/usr/bin/env node
// Prints the failed tests of a Vitest JSON report (vitest.config.ts writes one when
// AUDITQ_TEST_REPORT is set): file, test name and the first lines of each failure, so that the
// end of a failed CI log names what failed. Exits 0 whatever it finds; 1 only if FILE is unreadable.
import { readFileSync } from "node:fs";

const MESSAGE_LINES = 12;
const file = process.argv[2];
if (!file) {
  console.error("usage: scripts/test-failures.mjs REPORT.json");
  process.exit(2);
}
let report;
try {
  report = JSON.parse(readFileSync(file, "utf8"));
} catch (err) {
  console.error(`test-failures: cannot read ${file}: ${err.message}`);
  process.exit(1);
}
const root = `${process.cwd()}/`;
let failed = 0;
for (const suite of report.testResults ?? []) {
  const name = String(suite.name).replace(root, "");
  const tests = (suite.assertionResults ?? []).filter((t) => t.status === "failed");
  // A file can fail without a failed test: an error at import, in a hook, or an unhandled rejection.
  if (suite.status === "failed" && tests.length === 0) {
    failed++;
    console.log(`FAIL ${name}\n${excerpt(suite.message)}`);
  }
  for (const test of tests) {
    failed++;
    console.log(
      `FAIL ${name} > ${test.fullName}\n${excerpt((test.failureMessages ?? []).join("\n"))}`,
    );
  }
}
console.log(
  `${failed} failed of ${report.numTotalTests} tests` +
    (report.numFailedTestSuites ? ` (${report.numFailedTestSuites} files failed)` : ""),
);

function excerpt(text) {
  return String(text ?? "")
    .split("\n")
    .filter((line) => !/^\s+at .*(node_modules|<anonymous>)/.test(line))
    .slice(0, MESSAGE_LINES)
    .map((line) => `    ${line}`)
    .join("\n");
}
