// docker-compose.yml cannot run where auditq is developed (no Docker); what it says can be
// checked: the sidecar's variables are real settings with valid values, the queue it reads is
// the one create-queue makes and the app writes to, and Prometheus scrapes the sidecar's port
// under the job name the alert rules use, with the rules mounted.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { readConfig, SETTINGS } from "../../sidecar/cli/args.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const read = (path: string) => readFileSync(`${ROOT}${path}`, "utf8");

interface Service {
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  build?: { target: string };
}
const compose = parse(read("docker-compose.yml"), { merge: true }) as {
  services: Record<string, Service>;
};
const { sidecar, app, prometheus } = compose.services as Record<string, Service>;
const createQueue = compose.services["create-queue"] as Service;

describe("docker-compose.yml", () => {
  it("gives the sidecar only real settings, with values the CLI accepts", () => {
    const env = sidecar?.environment ?? {};
    const settings = new Set(SETTINGS.map((s) => s.env));
    expect(Object.keys(env).filter((k) => k.startsWith("AUDITQ_") && !settings.has(k))).toEqual([]);
    const config = readConfig(env);
    expect(sidecar?.ports).toEqual([`127.0.0.1:${config.metricsPort}:${config.metricsPort}`]);
  });

  it("has create-queue make the queue the sidecar reads and the app writes to", () => {
    const name = createQueue.command?.[createQueue.command.indexOf("--queue-name") + 1];
    expect(createQueue.command?.[0]).toBe("create-queue");
    for (const service of [sidecar, app]) {
      expect(service?.environment?.AUDITQ_QUEUE_URL).toMatch(new RegExp(`/${name}$`));
    }
    expect(sidecar?.build?.target).toBe("runtime");
    expect(app?.build?.target).toBe("example-app");
  });

  it("has Prometheus scrape the sidecar as job auditq-sidecar, with the alert rules loaded", () => {
    const config = parse(read("deploy/prometheus/compose-prometheus.yml")) as {
      rule_files: string[];
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    const port = readConfig(sidecar?.environment ?? {}).metricsPort;
    const job = config.scrape_configs.find((c) => c.job_name === "auditq-sidecar");
    expect(job?.static_configs[0]?.targets).toEqual([`sidecar:${port}`]);
    const mounts = new Map(
      (prometheus?.volumes ?? []).map((v) => {
        const [from, to] = v.split(":");
        return [to as string, from as string];
      }),
    );
    for (const file of config.rule_files) {
      const source = mounts.get(file);
      expect(source, file).toBeDefined();
      expect(existsSync(`${ROOT}${source}`), source).toBe(true);
    }
    expect(mounts.get("/etc/prometheus/prometheus.yml")).toBe(
      "./deploy/prometheus/compose-prometheus.yml",
    );
  });
});
