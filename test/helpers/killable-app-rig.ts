// The rig of the kill tests: a sidecar rig (queue, database, in-process sidecar) plus a spool
// directory and the audited app of killable-app.ts run as children on them, all disposed of
// after each test.
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach } from "vitest";
import { killAll, type ScriptChild, startScript } from "./script-child.js";
import type { SqsTarget } from "./services.js";
import { type SidecarRig, useSidecarRig } from "./sidecar-rig.js";

const APP = fileURLToPath(new URL("./killable-app.ts", import.meta.url));

export interface KillableAppRig extends SidecarRig {
  /** This test's spool directory, shared by every app it starts. */
  readonly spoolDir: string;
  /**
   * Starts killable-app.ts in `mode` ("serve": answer traffic, "deliver": send what the spool
   * holds and exit) with `durability`; killed after the test if still running.
   */
  startApp(mode: "serve" | "deliver", durability: string): ScriptChild;
}

/** Registers the hooks in the calling `describe`; `prefix` names the spool directories. */
export function useKillableAppRig(target: SqsTarget, prefix: string): KillableAppRig {
  const rig = useSidecarRig(target);
  const children: ChildProcess[] = [];
  let spoolDir: string | undefined;

  beforeEach(() => {
    spoolDir = mkdtempSync(join(tmpdir(), `auditq-${prefix}-`));
  });

  // Registered after the sidecar rig's afterEach, so it runs first: the apps die before the
  // queue and database they write to are disposed of.
  afterEach(async () => {
    await killAll(children.splice(0));
    if (spoolDir !== undefined) rmSync(spoolDir, { recursive: true, force: true });
    spoolDir = undefined;
  });

  const app: KillableAppRig = {
    get queue() {
      return rig.queue;
    },
    get mongo() {
      return rig.mongo;
    },
    get sidecar() {
      return rig.sidecar;
    },
    create: (options) => rig.create(options),
    start: (options) => rig.start(options),
    spawn: (env) => rig.spawn(env),
    metric: (name) => rig.metric(name),
    get spoolDir() {
      if (spoolDir === undefined) throw new Error("the rig has no spool directory outside a test");
      return spoolDir;
    },
    startApp(mode, durability) {
      const started = startScript(APP, {
        MODE: mode,
        DURABILITY: durability,
        QUEUE_URL: rig.queue.queueUrl,
        SQS_ENDPOINT: target.endpoint,
        SPOOL_DIR: app.spoolDir,
      });
      children.push(started.child);
      return started;
    },
  };
  return app;
}
