// The alert rules as Prometheus itself reads them: `promtool check rules` and the unit tests in
// deploy/prometheus/auditq-alerts.test.yml, where every alert has a case that fires and one that
// does not. promtool comes from Debian's `prometheus` package (.ci/run installs it).
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const run = promisify(execFile);
const DIR = fileURLToPath(new URL("../../deploy/prometheus/", import.meta.url));

interface AlertTest {
  alertname: string;
  exp_alerts: unknown[];
}
const rules = parse(readFileSync(`${DIR}auditq-alerts.yml`, "utf8")) as {
  groups: { rules: { alert: string; expr: string }[] }[];
};
const tests = parse(readFileSync(`${DIR}auditq-alerts.test.yml`, "utf8")) as {
  tests: { alert_rule_test: AlertTest[] }[];
};
const alerts = rules.groups.flatMap((g) => g.rules.map((r) => r.alert));
const cases = tests.tests.flatMap((t) => t.alert_rule_test);

describe("Prometheus alert rules", () => {
  it("names the alerts docs/operations.md lists", () => {
    const page = readFileSync(new URL("../../docs/operations.md", import.meta.url), "utf8");
    const listed = [...page.matchAll(/^\| `(Auditq\w+)` \|/gm)].map((m) => m[1]);
    expect(listed).toEqual(alerts);
    expect(alerts).toEqual([
      "AuditqRecordsDropped",
      "AuditqSpoolGrowing",
      "AuditqQuarantineGrowing",
      "AuditqSidecarNotWriting",
      "AuditqEndToEndLagHigh",
      "AuditqSqsErrors",
      "AuditqSidecarDown",
      "AuditqSidecarsAbsent",
      "AuditqSidecarNotReady",
    ]);
  });

  it.each(alerts)("%s has a promtool case where it fires and one where it does not", (alert) => {
    const mine = cases.filter((c) => c.alertname === alert);
    expect(mine.some((c) => c.exp_alerts.length > 0)).toBe(true);
    expect(mine.some((c) => c.exp_alerts.length === 0)).toBe(true);
  });

  it("passes promtool check rules", async () => {
    const { stdout } = await run("promtool", ["check", "rules", "auditq-alerts.yml"], { cwd: DIR });
    expect(stdout).toMatch(/SUCCESS: 9 rules found/);
  });

  it("passes promtool test rules", async () => {
    const { stdout } = await run("promtool", ["test", "rules", "auditq-alerts.test.yml"], {
      cwd: DIR,
    });
    expect(stdout).toMatch(/SUCCESS/);
  });
});
