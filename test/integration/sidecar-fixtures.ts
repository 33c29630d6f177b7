// Shared by the sidecar's integration tests: put records on a queue, run the CLI as a child.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { ObjectId } from "bson";
import { ENVELOPE_ATTRIBUTES, envelopeBody } from "../../shared/wire/envelope.js";
import { serializeRecord } from "../../shared/wire/record-json.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** A record as the middleware makes it. */
export function makeRecord(i: number) {
  return {
    _id: new ObjectId(),
    v: 1,
    ts: new Date(),
    actor: { id: `user-${i % 13}` },
    action: "GET /orders/:id",
    request: { method: "GET", path: `/orders/${i}`, route: "/orders/:id" },
    outcome: { status: 200, durationMs: 1.5 },
  };
}

/** Sends `n` fresh records in envelopes of `perMessage`; returns their ids. */
export async function sendRecords(
  sqs: SQSClient,
  queueUrl: string,
  n: number,
  perMessage = 50,
): Promise<ObjectId[]> {
  const ids: ObjectId[] = [];
  const bodies: string[] = [];
  for (let i = 0; i < n; i += perMessage) {
    const batch = Array.from({ length: Math.min(perMessage, n - i) }, (_, j) => makeRecord(i + j));
    ids.push(...batch.map((r) => r._id));
    bodies.push(envelopeBody(batch.map(serializeRecord)));
  }
  await sendBodies(sqs, queueUrl, bodies, ENVELOPE_ATTRIBUTES);
  return ids;
}

export async function sendBodies(
  sqs: SQSClient,
  queueUrl: string,
  bodies: readonly string[],
  attributes?: Record<string, { DataType: string; StringValue: string }>,
): Promise<void> {
  const calls: Promise<unknown>[] = [];
  for (let i = 0; i < bodies.length; i += 10) {
    calls.push(
      sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: bodies.slice(i, i + 10).map((body, j) => ({
            Id: String(j),
            MessageBody: body,
            MessageAttributes: attributes,
          })),
        }),
      ),
    );
    if (calls.length >= 8) await Promise.all(calls.splice(0));
  }
  await Promise.all(calls);
}

export interface CliProcess {
  child: ChildProcess;
  /** stderr and stdout so far (the JSON log lines). */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs `auditq-sidecar` from source as its own process, configured by env. */
export function spawnCli(
  endpoint: string,
  env: Record<string, string>,
  args: string[] = [],
): CliProcess {
  let out = "";
  const child = spawn(process.execPath, ["--import", "tsx", `${ROOT}sidecar/cli/cli.ts`, ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "local",
      AWS_SECRET_ACCESS_KEY: "local",
      AWS_ENDPOINT_URL_SQS: endpoint,
      AUDITQ_LOG_LEVEL: "warn",
      ...env,
    },
  });
  const keep = (chunk: Buffer) => {
    out = (out + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = once(child, "exit").then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  return { child, output: () => out, exited };
}

/** GET on the CLI's ops server; status and body, or status 0 while it does not answer. */
export async function ops(port: number, path: string): Promise<{ status: number; body: string }> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: res.status, body: await res.text() };
  } catch (err) {
    if (err instanceof TypeError) return { status: 0, body: "" }; // not listening (yet)
    throw err;
  }
}

/** The value on the line `name value` of Prometheus text output (`name` is a regular expression, so a label selector needs its braces escaped); 0 when absent. */
export function metricValue(text: string, name: string): number {
  const match = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
  return match ? Number(match[1]) : 0;
}
