// The alert rules and the Grafana dashboard against the code and the docs: every metric they
// query is one the middleware or the sidecar defines, every alert links a runbook section that
// exists, what the rules say about retention is what create-queue sets, and every dashboard
// query is scoped by the cluster, namespace and job variables.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { createMiddlewareMetrics } from "../../middleware/config/metrics.js";
import { CREATE_QUEUE_DEFAULTS } from "../../sidecar/cli/create-queue.js";
import { createSidecarMetrics } from "../../sidecar/config/metrics.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const read = (path: string) => readFileSync(`${ROOT}${path}`, "utf8");

interface Rule {
  alert: string;
  expr: string;
  annotations: Record<string, string>;
}
const rules = (
  parse(read("deploy/prometheus/auditq-alerts.yml")) as { groups: { rules: Rule[] }[] }
).groups.flatMap((g) => g.rules);
const dashboard = JSON.parse(read("deploy/grafana/auditq-dashboard.json")) as {
  templating: { list: { name: string; query: unknown }[] };
  panels: { title: string; targets: { expr: string }[] }[];
};
const panelQueries = dashboard.panels.flatMap((p) =>
  p.targets.map((t) => ({ panel: p.title, expr: t.expr })),
);

/** Every series name the code exposes, histograms with their _bucket, _sum and _count. */
async function definedMetrics(): Promise<Set<string>> {
  const registry = new Registry();
  createMiddlewareMetrics(registry);
  createSidecarMetrics(registry, async () => undefined);
  const names = new Set<string>(["up"]); // Prometheus's own, per target
  for (const m of await registry.getMetricsAsJSON()) {
    names.add(m.name);
    if (String(m.type) === "histogram") {
      for (const suffix of ["_bucket", "_sum", "_count"]) names.add(`${m.name}${suffix}`);
    }
  }
  return names;
}

/** Metric names an expression selects: names followed by a selector, range or parenthesis. */
const selected = (expr: string) =>
  [...expr.matchAll(/\b([a-z_:][a-z0-9_:]*)\s*(?=[{[)])/g)]
    .map((m) => m[1] as string)
    .filter((n) => n === "up" || n.startsWith("auditq_"));

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
const slug = (heading: string) =>
  heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");

describe("alert rules and dashboard against the code", () => {
  it("query only metrics the middleware or the sidecar define", async () => {
    const defined = await definedMetrics();
    const used = [
      ...rules.map((r) => ({ where: r.alert, expr: r.expr })),
      ...panelQueries.map((q) => ({ where: q.panel, expr: q.expr })),
    ];
    const unknown = used.flatMap(({ where, expr }) =>
      selected(expr)
        .filter((n) => !defined.has(n))
        .map((n) => `${where}: ${n}`),
    );
    expect(selected("sum(rate(auditq_nope_total[5m]))")).toEqual(["auditq_nope_total"]);
    expect(used.flatMap(({ expr }) => selected(expr)).length).toBeGreaterThan(30);
    expect(unknown).toEqual([]);
  });

  it("show errors, MongoDB timeouts and write latency on the dashboard", () => {
    const all = panelQueries.map((q) => q.expr).join("\n");
    for (const metric of [
      "auditq_sidecar_errors_total",
      "auditq_capture_errors_total",
      "auditq_sidecar_mongo_timeouts_total",
      "auditq_sidecar_write_duration_seconds_bucket",
    ]) {
      expect(all).toContain(metric);
    }
  });
});

describe("runbooks", () => {
  const page = read("docs/runbooks.md");
  const headings = [...page.matchAll(/^## (.+)$/gm)].map((m) => m[1] as string);

  it.each(rules.map((r) => [r.alert, r] as const))(
    "%s links its runbook section",
    (alert, rule) => {
      const url = rule.annotations.runbook_url as string;
      expect(url).toBe(`docs/runbooks.md#${slug(alert)}`);
      expect(headings.map(slug)).toContain(url.split("#")[1]);
      // Each section says what it means, how to check and what to do.
      const section = page.split(/^## /m).find((s) => s.startsWith(`${alert}\n`)) ?? "";
      for (const part of ["**What it means.**", "**How to check.**", "**What to do.**"]) {
        expect(section, `${alert}: ${part}`).toContain(part);
      }
    },
  );

  it("has a section for each alert and no other", () => {
    expect(headings).toEqual(rules.map((r) => r.alert));
  });
});

describe("AuditqSidecarNotWriting", () => {
  it("quotes the retention create-queue sets", () => {
    const rule = rules.find((r) => r.alert === "AuditqSidecarNotWriting") as Rule;
    const days = CREATE_QUEUE_DEFAULTS.retentionSeconds / 86_400;
    expect(rule.annotations.description?.replace(/\s+/g, " ")).toContain(
      `(${days} days as create-queue sets it;`,
    );
  });
});

describe("dashboard variables", () => {
  const MATCHERS = ['cluster=~"$cluster"', 'namespace=~"$namespace"', 'job=~"$job"'];

  it("has cluster, namespace and job variables", () => {
    const names = dashboard.templating.list.map((v) => v.name);
    expect(names).toEqual(expect.arrayContaining(["cluster", "namespace", "job"]));
  });

  it.each(panelQueries.map((q) => [q.panel, q.expr] as const))(
    "%s scopes every selector by the variables",
    (_panel, expr) => {
      const selectors = [...expr.matchAll(/\b(auditq_\w+)(\{[^}]*\})?/g)];
      expect(selectors.length).toBeGreaterThan(0);
      for (const [, name, labels] of selectors) {
        for (const m of MATCHERS) expect(labels ?? "", `${name}`).toContain(m);
      }
    },
  );
});
