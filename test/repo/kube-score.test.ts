// kube-score (scripts/kube-score builds it from its Go module) on every rendered topology:
// no critical finding and no warning. Checks the kit passes on purpose are named, with the
// reason, in a `kube-score/ignore` annotation on the object.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type K8s, ROOT, renderAll, TOPOLOGIES } from "./k8s-render.js";

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "auditq-kube-score-"));
const rendered = new Map<string, { yaml: string; objs: K8s[] }>();

beforeAll(async () => {
  for (const [topology, r] of await renderAll()) rendered.set(topology, r);
  // The first run builds kube-score (a few minutes on a busy machine).
  await run(`${ROOT}scripts/kube-score`, ["version"], { timeout: 600_000 });
}, 600_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** kube-score's findings other than OK and SKIPPED, one line each; and its exit code. */
async function score(yaml: string): Promise<{ findings: string[]; code: number }> {
  const file = join(dir, "manifests.yaml");
  writeFileSync(file, yaml);
  const result = await run(`${ROOT}scripts/kube-score`, ["score", "-o", "ci", file]).then(
    (r) => ({ stdout: r.stdout, code: 0 }),
    // kube-score exits 1 when it has a critical finding; its report is still on stdout.
    (err: { stdout?: string; code?: number }) => ({
      stdout: err.stdout ?? "",
      code: err.code ?? -1,
    }),
  );
  const findings = result.stdout
    .split("\n")
    .filter((l) => l !== "" && !/^\[(OK|SKIPPED)\]/.test(l));
  return { findings, code: result.code };
}

describe.each(TOPOLOGIES)("kube-score on deploy/kubernetes/%s", (topology) => {
  it("finds nothing critical and warns of nothing", async () => {
    const { findings, code } = await score(rendered.get(topology)?.yaml as string);
    expect(findings).toEqual([]);
    expect(code).toBe(0);
  });
});

describe("kube-score itself", () => {
  it("does flag a Deployment without limits, probes or security context (the check can fail)", async () => {
    const bare = `apiVersion: apps/v1
kind: Deployment
metadata: { name: bare }
spec:
  selector: { matchLabels: { app: bare } }
  template:
    metadata: { labels: { app: bare } }
    spec:
      containers: [{ name: bare, image: "bare:latest" }]
`;
    const { findings, code } = await score(bare);
    expect(findings.some((f) => f.startsWith("[CRITICAL]"))).toBe(true);
    expect(code).toBe(1);
  });
});
