// OpenTelemetry's aws-sdk instrumentation (on by default in auto-instrumentations), with a real
// tracer provider, writes `traceparent` into each entry's MessageAttributes. Every message must
// carry the trace context of the call that sent it, and auditq's shared attribute objects must
// stay as they were (else later messages carry stale context and exceed the sizes counted).
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { createTestQueue, sqsTargets } from "../helpers/services.js";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const TSX = fileURLToPath(new URL("../../node_modules/tsx/dist/cli.mjs", import.meta.url));
const CHILD = fileURLToPath(new URL("./otel/send-traced.ts", import.meta.url));
/** Sends the child makes: six messages of records, then the end-of-stream message of close(). */
const SENDS = 7;

describe.each(sqsTargets())("traced sends on $name", (target) => {
  it.each(["none", "br"])(
    "gives every message its own trace context (compression %s)",
    async (compression) => {
      const queue = await createTestQueue(target);
      try {
        const { stdout } = await run(process.execPath, [TSX, CHILD], {
          cwd: ROOT,
          env: {
            ...process.env,
            QUEUE_URL: queue.queueUrl,
            SQS_ENDPOINT: target.endpoint,
            COMPRESSION: compression,
          },
        });
        const out = JSON.parse(stdout) as {
          spans: Array<{ traceId: string; spanId: string }>;
          shared: string[][];
        };
        expect(out.spans).toHaveLength(SENDS);
        // The attribute objects every envelope starts from hold auditq's own attributes only.
        for (const keys of out.shared)
          expect(keys.every((k) => k.startsWith("auditq-"))).toBe(true);

        const parents: string[] = [];
        while (parents.length < SENDS) {
          const got = await queue.sqs.send(
            new ReceiveMessageCommand({
              QueueUrl: queue.queueUrl,
              MaxNumberOfMessages: 10,
              MessageAttributeNames: ["All"],
              WaitTimeSeconds: 1,
            }),
          );
          if ((got.Messages ?? []).length === 0) break;
          for (const message of got.Messages ?? []) {
            parents.push(message.MessageAttributes?.traceparent?.StringValue ?? "none");
          }
        }
        const sent = out.spans.map((s) => `00-${s.traceId}-${s.spanId}-01`);
        expect(parents.sort()).toEqual(sent.sort());
      } finally {
        await queue.dispose();
      }
    },
  );
});
