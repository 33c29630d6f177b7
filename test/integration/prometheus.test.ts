// The alert rules and the Grafana dashboard against a real Prometheus server (Debian's
// `prometheus` package, on loopback) scraping a real sidecar process and a real audited app
// while traffic flows. Every alert expression and every dashboard query is evaluated through
// Prometheus's HTTP API: each must parse and return series, and every metric it names must
// exist in what was scraped.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { freePort } from "../helpers/processes.js";
import {
  createTestDb,
  createTestQueue,
  mongoUri,
  sqsTargets,
  type TestDb,
  type TestQueue,
  waitFor,
} from "../helpers/services.js";
import { type CliProcess, spawnCli } from "../helpers/sidecar-cli.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const RULES = `${ROOT}deploy/prometheus/auditq-alerts.yml`;
const DASHBOARD = `${ROOT}deploy/grafana/auditq-dashboard.json`;
const PROMETHEUS = process.env.AUDITQ_TEST_PROMETHEUS ?? "prometheus";

const alerts = (
  parse(readFileSync(RULES, "utf8")) as { groups: { rules: { alert: string; expr: string }[] }[] }
).groups.flatMap((g) => g.rules);
const panels = (
  JSON.parse(readFileSync(DASHBOARD, "utf8")) as {
    panels: { title: string; targets: { expr: string }[] }[];
  }
).panels;
const queries = panels.flatMap((p) =>
  p.targets.map((t, i) => ({
    name: `${p.title} #${i + 1}`,
    // Grafana fills $__rate_interval in (at least four scrape intervals); 1 s scrapes here.
    // The cluster, namespace and job variables at "All" are `.*`, which also matches series
    // without the label (this Prometheus adds no cluster or namespace).
    expr: t.expr
      .replaceAll("$__rate_interval", "30s")
      .replace(/\$(cluster|namespace|job)\b/g, ".*"),
  })),
);

/**
 * An alert's expression with each comparison against a number turned into its `bool` form, so
 * it returns its series (as 0 or 1) whether or not the alert would fire now.
 */
function asSeries(expr: string): string {
  // absent(X) returns nothing while X has series, which is the healthy case: evaluate X.
  const inner = /^absent\(([\s\S]*)\)$/.exec(expr.trim())?.[1];
  if (inner !== undefined) return asSeries(inner);
  return expr.replace(/(\s)(==|!=|>=|<=|>|<)\s+(-?\d[\d.e]*)/g, "$1$2 bool $3");
}

/** Metric names an expression selects (histogram series included as `_bucket`). */
function metricNames(expr: string): string[] {
  return [...new Set(expr.match(/\b(auditq_\w+|up)\b(?=\s*[{[)])/g) ?? [])];
}

interface QueryResult {
  status: string;
  error?: string;
  data?: { result: unknown[] };
}

describe("alerts and dashboard on a real Prometheus", () => {
  const target = sqsTargets()[0] as NonNullable<ReturnType<typeof sqsTargets>[0]>;
  let queue: TestQueue;
  let mongo: TestDb;
  let sidecar: CliProcess;
  let app: ChildProcess;
  let prometheus: ChildProcess;
  let prometheusLog = "";
  let dir: string;
  let promPort: number;
  let traffic = true;
  let answered = 0;
  let trafficDone: Promise<void> = Promise.resolve();

  async function query(expr: string): Promise<QueryResult> {
    const res = await fetch(`http://127.0.0.1:${promPort}/api/v1/query`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ query: expr }),
    });
    return (await res.json()) as QueryResult;
  }
  const seriesOf = async (expr: string) => (await query(expr)).data?.result.length ?? 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "auditq-prom-"));
    queue = await createTestQueue(target);
    mongo = await createTestDb();
    const [sidecarPort, appPort] = [await freePort(), await freePort()];
    promPort = await freePort();

    sidecar = spawnCli(target.endpoint, {
      AUDITQ_QUEUE_URL: queue.queueUrl,
      AUDITQ_MONGODB_URI: mongoUri(),
      AUDITQ_DATABASE: mongo.name,
      AUDITQ_WAIT_TIME_SECONDS: "1",
      AUDITQ_METRICS_PORT: String(sidecarPort),
    });
    app = spawn(process.execPath, ["--import", "tsx", `${ROOT}deploy/example-app/server.ts`], {
      cwd: ROOT,
      stdio: ["ignore", "ignore", "inherit"],
      env: {
        ...process.env,
        AWS_REGION: "us-east-1",
        AWS_ACCESS_KEY_ID: "local",
        AWS_SECRET_ACCESS_KEY: "local",
        AWS_ENDPOINT_URL_SQS: target.endpoint,
        AUDITQ_QUEUE_URL: queue.queueUrl,
        AUDITQ_SPOOL_DIR: join(dir, "spool"),
        HOST: "127.0.0.1",
        PORT: String(appPort),
      },
    });

    writeFileSync(
      join(dir, "prometheus.yml"),
      JSON.stringify({
        global: { scrape_interval: "1s", evaluation_interval: "1s" },
        rule_files: [RULES],
        scrape_configs: [
          {
            job_name: "auditq-sidecar",
            static_configs: [{ targets: [`127.0.0.1:${sidecarPort}`] }],
          },
          { job_name: "auditq-app", static_configs: [{ targets: [`127.0.0.1:${appPort}`] }] },
        ],
      }),
    );
    prometheus = spawn(
      PROMETHEUS,
      [
        `--config.file=${join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    const keep = (chunk: Buffer) => {
      prometheusLog = (prometheusLog + chunk.toString()).slice(-8000);
    };
    prometheus.stdout?.on("data", keep);
    prometheus.stderr?.on("data", keep);
    prometheus.once("error", (err) => {
      prometheusLog += `\ncannot start ${PROMETHEUS}: ${err.message} (Debian: apt-get install prometheus)`;
    });

    // Traffic until the test ends: reads and writes through the audited app.
    trafficDone = (async () => {
      for (let i = 0; traffic; i++) {
        const url = `http://127.0.0.1:${appPort}/orders${i % 2 ? "" : `/${i}`}`;
        const init: RequestInit =
          i % 2
            ? { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }
            : {};
        await fetch(url, init).then(
          (res) => {
            answered++;
            return res.arrayBuffer();
          },
          () => new Promise((resolve) => setTimeout(resolve, 100)), // not listening yet
        );
      }
    })();

    // Both targets up, records written, and enough scrapes for rates over the windows.
    await waitFor(
      "Prometheus to answer",
      async () => (await fetch(`http://127.0.0.1:${promPort}/-/ready`).catch(() => null))?.ok,
      (ok) => ok === true || prometheus.exitCode !== null,
      { timeoutMs: 30_000 },
    );
    if (prometheus.exitCode !== null) throw new Error(`prometheus exited:\n${prometheusLog}`);
    await waitFor(
      "both targets up and records written, over at least 10 scrapes",
      async () => ({
        answered,
        up: await seriesOf("up == 1"),
        written: await seriesOf("increase(auditq_sidecar_records_written_total[1m]) > 0"),
        sent: await seriesOf("increase(auditq_records_sent_total[1m]) > 0"),
        scrapes: await seriesOf('count_over_time(up{job="auditq-sidecar"}[1m]) >= 10'),
      }),
      (s) => s.up === 2 && s.written === 1 && s.sent === 1 && s.scrapes === 1,
      { timeoutMs: 90_000, intervalMs: 500 },
    );
  }, 150_000);

  afterAll(async () => {
    traffic = false;
    await trafficDone;
    const stops: Promise<unknown>[] = [];
    for (const child of [app, prometheus, sidecar?.child]) {
      if (child && child.exitCode === null && child.signalCode === null) {
        stops.push(once(child, "exit"));
        child.kill("SIGTERM");
      }
    }
    await Promise.all(stops);
    await queue?.dispose();
    await mongo?.dispose();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it("loaded every alert rule", async () => {
    const res = await fetch(`http://127.0.0.1:${promPort}/api/v1/rules`);
    const body = (await res.json()) as {
      data: { groups: { rules: { name: string; health: string }[] }[] };
    };
    const loaded = body.data.groups.flatMap((g) => g.rules);
    expect(loaded.map((r) => r.name)).toEqual(alerts.map((a) => a.alert));
    expect(loaded.every((r) => r.health !== "err")).toBe(true);
  });

  it.each(alerts.map((a) => [a.alert, a.expr] as const))(
    "alert %s parses and its expression returns series",
    async (_name, expr) => {
      const raw = await query(expr);
      expect(raw.status, raw.error).toBe("success");
      const bool = await query(asSeries(expr));
      expect(bool.status, bool.error).toBe("success");
      expect(bool.data?.result.length, asSeries(expr)).toBeGreaterThan(0);
      for (const name of metricNames(expr)) {
        expect(await seriesOf(`count({__name__="${name}"})`), name).toBe(1);
      }
    },
  );

  it.each(queries.map((q) => [q.name, q.expr] as const))(
    "dashboard panel %s parses and returns series",
    async (_name, expr) => {
      const result = await query(expr);
      expect(result.status, result.error).toBe("success");
      expect(result.data?.result.length, expr).toBeGreaterThan(0);
      for (const name of metricNames(expr)) {
        expect(await seriesOf(`count({__name__="${name}"})`), name).toBe(1);
      }
    },
  );
});
