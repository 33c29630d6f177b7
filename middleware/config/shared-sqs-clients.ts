// SQS clients auditq builds are shared by the instances of one process built with the same
// settings: a new `auditq()` (a test, a worker, a function's handler that builds one per call)
// then costs no new client, credential lookup, region resolution or connection. A client no
// open instance holds is destroyed 10 s after the last one closed, unless a new one takes it.
import { createHash } from "node:crypto";
import type { SQSClient, SQSClientConfig } from "@aws-sdk/client-sqs";

/** A client in use, and how to give it back once its instance has closed. */
export interface SqsLease {
  readonly client: SQSClient;
  /** Idempotent: the client is destroyed once no instance has held it for IDLE_KEEP_MS. */
  release(): void;
}

/**
 * How long a client no instance holds is kept for the next instance of the same settings (an
 * app built per test, per job, per invocation), on a timer that never holds the process open.
 */
const IDLE_KEEP_MS = 10_000;

const shared = new Map<
  string,
  { client: SQSClient; holders: number; idle: NodeJS.Timeout | undefined }
>();

/**
 * Which settings may share a client: only plain values (endpoint, region, maxAttempts, …).
 * Credentials, a request handler or any other object or function leave the client unshared:
 * they are the app's, with lifetimes and identities auditq does not judge. The key is a hash, so
 * no setting's text stays in this module.
 */
function keyOf(settings: Readonly<Record<string, unknown>>): string | undefined {
  const entries = Object.entries(settings)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [, v] of entries) {
    if (typeof v === "object" || typeof v === "function") return undefined;
  }
  return createHash("sha256").update(JSON.stringify(entries)).digest("hex");
}

/**
 * A client for `settings` (the `sqs` option as given) and auditq's own send deadline: the one
 * already built for the same values if an open instance holds it, else a new one from `build`.
 */
export function leaseSqsClient(
  settings: SQSClientConfig | undefined,
  sendTimeoutMs: number,
  build: () => SQSClient,
): SqsLease {
  const key = keyOf({ ...(settings ?? {}), "auditq.sendTimeoutMs": sendTimeoutMs });
  if (key === undefined) return ownLease(build());
  let entry = shared.get(key);
  if (entry === undefined) {
    entry = { client: build(), holders: 0, idle: undefined };
    shared.set(key, entry);
  }
  clearTimeout(entry.idle);
  entry.idle = undefined;
  entry.holders++;
  const held = entry;
  let released = false;
  return {
    client: held.client,
    release() {
      if (released) return;
      released = true;
      held.holders--;
      if (held.holders > 0) return;
      held.idle = setTimeout(() => {
        shared.delete(key);
        held.client.destroy();
      }, IDLE_KEEP_MS);
      held.idle.unref();
    },
  };
}

function ownLease(client: SQSClient): SqsLease {
  return { client, release: () => client.destroy() };
}
