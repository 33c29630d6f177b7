// The Kubernetes manifests as kustomize renders them (scripts/kustomize builds kustomize from
// its Go module), checked against the code: every variable given to the sidecar is one of its
// settings with a value it accepts, probes hit the paths and port the ops server serves, grace
// periods outlast the drain deadlines, and the monitoring objects select what they should.
import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { resolveOptions as resolveMiddlewareOptions } from "../../middleware/config/resolve.js";
import { EXIT_GRACE_MS, readConfig, SETTINGS } from "../../sidecar/cli/args.js";
import { CLI_OPTIONS } from "../../sidecar/config/option-table.js";
import { DEFAULTS } from "../../sidecar/config/resolve.js";
import { startOpsServer } from "../../sidecar/http.js";
import {
  containerEnv,
  find,
  type K8s,
  ROOT,
  renderAll,
  sidecarOf,
  TEST_MONGODB_URI,
  TOPOLOGIES,
} from "./k8s-render.js";

/** Variables the AWS SDK reads; everything else given to the sidecar must be a setting. */
const SDK_VARS = new Set([
  "AWS_REGION",
  "AWS_ENDPOINT_URL_SQS",
  "AWS_ROLE_ARN",
  "AWS_WEB_IDENTITY_TOKEN_FILE",
]);
/** Kubernetes needs a margin past the drain deadline to run the preStop-less stop and reap. */
const MARGIN_MS = 5_000;

let ops: Server;
let opsPort: number;
const rendered = new Map<string, K8s[]>();

beforeAll(async () => {
  // The real ops server: probe paths must answer 200 on it (ready, as a healthy sidecar is).
  ops = await startOpsServer(new Registry(), () => true, {
    port: 0,
    host: "127.0.0.1",
    maxConnections: CLI_OPTIONS.metricsMaxConnections.default,
  });
  opsPort = (ops.address() as AddressInfo).port;
  // The first run builds kustomize (a few minutes on a busy machine); later runs reuse it.
  for (const [dir, { objs }] of await renderAll()) rendered.set(dir, objs);
}, 600_000);

afterAll(() => {
  ops?.close();
});

describe.each(TOPOLOGIES)("kustomize build deploy/kubernetes/%s", (dir) => {
  const objs = () => rendered.get(dir) as K8s[];
  const sidecarDeployment = () =>
    objs().find((o) => o.kind === "Deployment" && sidecarOf(o).container !== undefined);

  it("gives the sidecar only real settings, with values its CLI accepts", () => {
    const { container } = sidecarOf(sidecarDeployment());
    const env = containerEnv(objs(), container);
    const settings = new Set(SETTINGS.map((s) => s.env));
    const unknown = Object.keys(env).filter((k) => !settings.has(k) && !SDK_VARS.has(k));
    expect(unknown).toEqual([]);
    expect(() => readConfig(env)).not.toThrow();
    // The URI comes from the file the user writes (secretGenerator), nothing else.
    expect(env.AUDITQ_MONGODB_URI).toBe(TEST_MONGODB_URI);
  });

  it("probes /healthz and /readyz on the port the sidecar listens on, paths the ops server serves", async () => {
    const { container } = sidecarOf(sidecarDeployment());
    const { metricsPort } = readConfig(containerEnv(objs(), container));
    const ports = new Map<string, number>(
      container.ports.map((p: K8s) => [p.name, p.containerPort]),
    );
    expect(ports.get("auditq-metrics")).toBe(metricsPort);
    const probes = ["startupProbe", "livenessProbe", "readinessProbe"]
      .filter((p) => container[p])
      .map((p) => container[p].httpGet);
    expect(probes.length).toBeGreaterThanOrEqual(2);
    for (const probe of probes) {
      const port = typeof probe.port === "string" ? ports.get(probe.port) : probe.port;
      expect(port).toBe(metricsPort);
      const res = await fetch(`http://127.0.0.1:${opsPort}${probe.path}`);
      expect(res.status, probe.path).toBe(200);
    }
    expect(container.livenessProbe.httpGet.path).toBe("/healthz");
    expect(container.startupProbe.httpGet.path).toBe("/healthz");
  });

  it("lets the pod outlive the sidecar's drain deadline (and the app's close, in one pod)", () => {
    const deployment = sidecarDeployment();
    const { container, native } = sidecarOf(deployment);
    const env = containerEnv(objs(), container);
    const shutdownMs = readConfig(env).options.shutdownTimeoutMs ?? DEFAULTS.shutdownTimeoutMs;
    // A native sidecar gets SIGTERM only after the app has exited.
    const appCloseMs = native
      ? resolveMiddlewareOptions({ queueUrl: "https://sqs.example/1/q", spool: false })
          .closeTimeoutMs
      : 0;
    const graceMs = deployment.spec.template.spec.terminationGracePeriodSeconds * 1000;
    expect(graceMs).toBeGreaterThanOrEqual(appCloseMs + shutdownMs + EXIT_GRACE_MS + MARGIN_MS);
  });

  it("runs the sidecar non-root on a read-only root filesystem, with requests and limits", () => {
    const deployment = sidecarDeployment();
    const { container } = sidecarOf(deployment);
    const pod = deployment.spec.template.spec.securityContext;
    expect(pod.runAsNonRoot).toBe(true);
    expect(pod.runAsUser).toBeGreaterThan(0);
    expect(container.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(Object.keys(container.resources.requests).sort()).toEqual([
      "cpu",
      "ephemeral-storage",
      "memory",
    ]);
    expect(container.resources.limits.memory).toBeDefined();
  });

  it("has the sidecar scraped as job auditq-sidecar, the job the alert rules name", () => {
    const deployment = sidecarDeployment();
    const labels = deployment.spec.template.metadata.labels;
    const monitor = find(objs(), "PodMonitor", "auditq-sidecar");
    for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels))
      expect(labels[k]).toBe(v);
    const [endpoint] = monitor.spec.podMetricsEndpoints;
    expect(endpoint.port).toBe("auditq-metrics");
    expect(endpoint.path).toBe("/metrics");
    expect(endpoint.relabelings).toContainEqual({
      targetLabel: "job",
      replacement: "auditq-sidecar",
    });
    const rules = readFileSync(`${ROOT}deploy/prometheus/auditq-alerts.yml`, "utf8");
    expect(rules).toContain('up{job="auditq-sidecar"}');
    const annotations = deployment.spec.template.metadata.annotations;
    expect(annotations["prometheus.io/port"]).toBe(
      String(sidecarOf(deployment).container.ports[0].containerPort),
    );
  });

  it("ships the same alert groups to the Prometheus Operator as deploy/prometheus", () => {
    const rule = find(objs(), "PrometheusRule", "auditq");
    const file = parse(readFileSync(`${ROOT}deploy/prometheus/auditq-alerts.yml`, "utf8"));
    expect(rule.spec.groups).toEqual(file.groups);
  });

  it("keeps the app's spool on an emptyDir, where it survives container restarts", () => {
    const web = find(objs(), "Deployment", "web").spec.template.spec;
    const app = web.containers.find((c: K8s) => c.name === "web");
    const dir = app.env.find((e: K8s) => e.name === "AUDITQ_SPOOL_DIR").value;
    // Below the mount point, which root owns: auditq refuses a spool directory of another user.
    const mount = app.volumeMounts.find((m: K8s) => dir.startsWith(`${m.mountPath}/`));
    expect(web.volumes.find((v: K8s) => v.name === mount.name).emptyDir).toBeDefined();
    expect(app.securityContext.readOnlyRootFilesystem).toBe(true);
  });
});

describe("topology (a): the sidecar inside the web pod", () => {
  it("is a native sidecar with no readiness probe, so a MongoDB outage never unreadies the web pod", () => {
    const web = find(rendered.get("base") as K8s[], "Deployment", "web");
    const { container, native } = sidecarOf(web);
    expect(native).toBe(true);
    expect(container.restartPolicy).toBe("Always");
    expect(container.readinessProbe).toBeUndefined();
  });
});

describe("topology (b): the sidecar as its own Deployment", () => {
  it("leaves the web pods without a sidecar and gates the sidecar's readiness on /readyz", () => {
    const objs = rendered.get("overlays/standalone-sidecar") as K8s[];
    const web = find(objs, "Deployment", "web");
    expect(web.spec.template.spec.initContainers).toBeUndefined();
    expect(web.spec.template.metadata.labels["auditq.io/sidecar"]).toBeUndefined();
    const sidecar = find(objs, "Deployment", "auditq-sidecar");
    expect(sidecarOf(sidecar).container.readinessProbe.httpGet.path).toBe("/readyz");
    const pdb = find(objs, "PodDisruptionBudget", "auditq-sidecar");
    expect(pdb.spec.selector.matchLabels).toEqual(sidecar.spec.selector.matchLabels);
  });

  it("caps KEDA's replicas, the bound on MongoDB's write rate", () => {
    const objs = rendered.get("overlays/standalone-sidecar-keda") as K8s[];
    const scaled = find(objs, "ScaledObject", "auditq-sidecar");
    expect(scaled.spec.scaleTargetRef.name).toBe("auditq-sidecar");
    expect(scaled.spec.maxReplicaCount).toBeGreaterThanOrEqual(scaled.spec.minReplicaCount);
    expect(scaled.spec.maxReplicaCount).toBeLessThanOrEqual(10);
    const env = containerEnv(objs, sidecarOf(find(objs, "Deployment", "auditq-sidecar")).container);
    // A write-rate limit per replica is what makes the cap a bound.
    expect(Number(env.AUDITQ_MAX_WRITE_RATE)).toBeGreaterThan(0);
    expect(
      find(rendered.get("overlays/standalone-sidecar") as K8s[], "ScaledObject", "auditq-sidecar"),
    ).toBeUndefined();
  });
});
