// Renders deploy/kubernetes with scripts/kustomize (built from its Go module) the way a user
// would after the one step the kit requires: writing base/secrets/mongodb-uri. The kit is
// copied to a temporary directory first, so no secret file is ever written into the checkout.
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";

const run = promisify(execFile);
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const KUSTOMIZE = `${ROOT}scripts/kustomize`;
export const TOPOLOGIES = [
  "base",
  "overlays/standalone-sidecar",
  "overlays/standalone-sidecar-keda",
] as const;
/** What the test writes as the user's MongoDB URI (no real credential). */
export const TEST_MONGODB_URI = "mongodb://auditq:test-only@mongo-0.mongo:27017/?replicaSet=rs0";

// biome-ignore lint/suspicious/noExplicitAny: rendered Kubernetes objects are checked field by field
export type K8s = any;

/** A copy of deploy/kubernetes in a temporary directory; `withSecret` writes the URI file. */
export function copyKit(withSecret: boolean): { dir: string; remove: () => void } {
  const tmp = mkdtempSync(join(tmpdir(), "auditq-kit-"));
  const dir = join(tmp, "kubernetes");
  cpSync(`${ROOT}deploy/kubernetes`, dir, {
    recursive: true,
    // A secret file a developer wrote into the checkout must not make the test pass.
    filter: (src) => !src.includes(`${join("base", "secrets")}`),
  });
  if (withSecret) {
    mkdirSync(join(dir, "base/secrets"));
    writeFileSync(join(dir, "base/secrets/mongodb-uri"), TEST_MONGODB_URI);
  }
  return { dir, remove: () => rmSync(tmp, { recursive: true, force: true }) };
}

/** `kustomize build` of `kitDir/topology`: the YAML text. */
export async function build(kitDir: string, topology: string): Promise<string> {
  const { stdout } = await run(KUSTOMIZE, ["build", join(kitDir, topology)], {
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

/** Every topology, rendered from a kit copy holding the secret file. */
export async function renderAll(): Promise<Map<string, { yaml: string; objs: K8s[] }>> {
  const kit = copyKit(true);
  try {
    const out = new Map<string, { yaml: string; objs: K8s[] }>();
    for (const topology of TOPOLOGIES) {
      const yaml = await build(kit.dir, topology);
      out.set(topology, { yaml, objs: parseAllDocuments(yaml).map((d) => d.toJS()) });
    }
    return out;
  } finally {
    kit.remove();
  }
}

export const find = (objs: K8s[], kind: string, name: string) =>
  objs.find((o) => o.kind === kind && o.metadata.name === name);

/** The environment a container gets: envFrom ConfigMaps and Secrets, then env (values only). */
export function containerEnv(objs: K8s[], container: K8s): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef) Object.assign(env, find(objs, "ConfigMap", from.configMapRef.name).data);
    if (from.secretRef) {
      const secret = find(objs, "Secret", from.secretRef.name);
      Object.assign(env, secret.stringData ?? {});
      for (const [k, v] of Object.entries(secret.data ?? {})) {
        env[k] = Buffer.from(v as string, "base64").toString();
      }
    }
  }
  for (const e of container.env ?? [])
    env[e.name] = e.value ?? `<from ${JSON.stringify(e.valueFrom)}>`;
  return env;
}

/** The auditq-sidecar container of a Deployment, and whether it is a native sidecar. */
export function sidecarOf(deployment: K8s): { container: K8s; native: boolean } {
  const spec = deployment.spec.template.spec;
  const init = (spec.initContainers ?? []).find((c: K8s) => c.name === "auditq-sidecar");
  if (init) return { container: init, native: true };
  return {
    container: spec.containers.find((c: K8s) => c.name === "auditq-sidecar"),
    native: false,
  };
}
