// The deploy kit's cluster plumbing, as kustomize renders it: images with registry and tag in
// every topology, one namespace, ServiceAccounts with the IAM role annotation, NetworkPolicies,
// PodDisruptionBudgets, topology spread, a Secret that cannot be applied without the user's
// MongoDB URI, and a KEDA trigger that reads the queue and region from the sidecar itself.
import { beforeAll, describe, expect, it } from "vitest";
import {
  build,
  containerEnv,
  copyKit,
  find,
  type K8s,
  renderAll,
  sidecarOf,
  TOPOLOGIES,
} from "./k8s-render.js";

const rendered = new Map<string, { yaml: string; objs: K8s[] }>();
beforeAll(async () => {
  for (const [dir, r] of await renderAll()) rendered.set(dir, r);
}, 600_000);

const CLUSTER_SCOPED = new Set(["Namespace"]);
const deployments = (objs: K8s[]) => objs.filter((o) => o.kind === "Deployment");
const podSpecs = (objs: K8s[]) => deployments(objs).map((d) => d.spec.template.spec);
const sidecarDeployment = (objs: K8s[]) =>
  deployments(objs).find((d) => sidecarOf(d).container !== undefined);
const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

describe.each(TOPOLOGIES)("kustomize build deploy/kubernetes/%s", (dir) => {
  const objs = () => rendered.get(dir)?.objs as K8s[];

  it("gives every container an image with a registry and a release tag", () => {
    const containers = podSpecs(objs()).flatMap((s) => [
      ...(s.initContainers ?? []),
      ...s.containers,
    ]);
    expect(containers.length).toBeGreaterThanOrEqual(2);
    for (const c of containers) {
      expect(c.image, c.name).toMatch(/^[a-z0-9.-]+\.[a-z]+\/[a-z0-9/-]+:\d+\.\d+\.\d+$/);
    }
  });

  it("puts every namespaced object into the namespace the kit creates", () => {
    const [ns, ...more] = objs().filter((o) => o.kind === "Namespace");
    expect(more).toEqual([]);
    for (const o of objs().filter((o) => !CLUSTER_SCOPED.has(o.kind))) {
      expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe(ns.metadata.name);
    }
  });

  it("runs each pod under a ServiceAccount carrying the IAM role annotation, without an API token", () => {
    for (const spec of podSpecs(objs())) {
      const account = find(objs(), "ServiceAccount", spec.serviceAccountName);
      expect(account, spec.serviceAccountName).toBeDefined();
      expect(account.metadata.annotations["eks.amazonaws.com/role-arn"]).toMatch(
        /^arn:aws:iam::\d{12}:role\/[\w+=,.@-]+$/,
      );
      expect(account.automountServiceAccountToken).toBe(false);
    }
  });

  it("has a PodDisruptionBudget and zone and node spread for every Deployment", () => {
    for (const d of deployments(objs())) {
      const labels = d.spec.template.metadata.labels;
      const pdbs = objs().filter(
        (o) => o.kind === "PodDisruptionBudget" && selects(o.spec.selector.matchLabels, labels),
      );
      expect(pdbs, d.metadata.name).toHaveLength(1);
      expect(pdbs[0].spec.maxUnavailable).toBe(1);
      const spread = d.spec.template.spec.topologySpreadConstraints;
      expect(spread.map((t: K8s) => t.topologyKey).sort()).toEqual([
        "kubernetes.io/hostname",
        "topology.kubernetes.io/zone",
      ]);
      for (const t of spread) expect(selects(t.labelSelector.matchLabels, labels)).toBe(true);
    }
  });

  it("lets only the monitoring namespace reach the sidecar's metrics port", () => {
    const d = sidecarDeployment(objs());
    const port = sidecarOf(d).container.ports[0];
    const policies = objs().filter(
      (o) =>
        o.kind === "NetworkPolicy" &&
        selects(o.spec.podSelector.matchLabels, d.spec.template.metadata.labels),
    );
    expect(policies).toHaveLength(1);
    const rules = policies[0].spec.ingress.filter((r: K8s) =>
      r.ports.some((p: K8s) => p.port === port.containerPort || p.port === port.name),
    );
    expect(rules).toHaveLength(1);
    expect(rules[0].from).toEqual([
      { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } },
    ]);
  });

  it("has no placeholder secret left to apply", () => {
    expect(rendered.get(dir)?.yaml).not.toMatch(/CHANGE-?ME/i);
  });
});

describe("the sidecar's NetworkPolicy (standalone)", () => {
  it("lets it reach DNS, MongoDB and SQS, and nothing else by port", () => {
    const objs = rendered.get("overlays/standalone-sidecar")?.objs as K8s[];
    const policy = find(objs, "NetworkPolicy", "auditq-sidecar");
    expect(policy.spec.policyTypes).toEqual(["Ingress", "Egress"]);
    const ports = policy.spec.egress.flatMap((r: K8s) =>
      r.ports.map((p: K8s) => `${p.port}/${p.protocol}`),
    );
    expect(ports.sort()).toEqual(["27017/TCP", "443/TCP", "53/TCP", "53/UDP", "80/TCP"]);
    const dns = policy.spec.egress.find((r: K8s) => r.ports.some((p: K8s) => p.port === 53));
    expect(dns.to[0].podSelector.matchLabels).toEqual({ "k8s-app": "kube-dns" });
    // Port 80 only to the EKS Pod Identity agent, never to the internet.
    const http = policy.spec.egress.find((r: K8s) => r.ports.some((p: K8s) => p.port === 80));
    expect(http.to).toEqual([{ ipBlock: { cidr: "169.254.170.23/32" } }]);
  });
});

describe("the MongoDB URI Secret", () => {
  it("fails `kustomize build` loudly, naming the file, until the user writes the URI", async () => {
    const kit = copyKit(false);
    try {
      for (const topology of TOPOLOGIES) {
        await expect(build(kit.dir, topology)).rejects.toThrow(/secrets\/mongodb-uri/);
      }
    } finally {
      kit.remove();
    }
  });
});

describe("the KEDA ScaledObject", () => {
  it("reads the queue URL and the region from the sidecar's own environment", () => {
    const objs = rendered.get("overlays/standalone-sidecar-keda")?.objs as K8s[];
    const scaled = find(objs, "ScaledObject", "auditq-sidecar");
    const [trigger] = scaled.spec.triggers;
    expect(trigger.metadata.queueURL).toBeUndefined();
    expect(trigger.metadata.awsRegion).toBeUndefined();
    const target = find(objs, "Deployment", scaled.spec.scaleTargetRef.name);
    const { container } = sidecarOf(target);
    const env = containerEnv(objs, container);
    const config = find(objs, "ConfigMap", "auditq-sidecar").data;
    expect(env[trigger.metadata.queueURLFromEnv]).toBe(config.AUDITQ_QUEUE_URL);
    const auth = find(objs, "TriggerAuthentication", trigger.authenticationRef.name);
    const region = auth.spec.env.find((e: K8s) => e.parameter === "awsRegion");
    expect(region.containerName).toBe(container.name);
    expect(env[region.name]).toBe(config.AWS_REGION);
    // Nothing in the rendered trigger repeats them.
    expect(JSON.stringify(scaled)).not.toContain(config.AUDITQ_QUEUE_URL);
  });
});
