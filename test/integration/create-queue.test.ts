// `auditq-sidecar create-queue` against real SQS emulators: the queue, its DLQ and the redrive
// policy between them, idempotent on a second run, and clear errors on bad flags.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { DeleteQueueCommand, GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { sqsClient, sqsTargets, uniqueName } from "../helpers/services.js";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

function createQueue(endpoint: string, args: string[]) {
  return run(
    process.execPath,
    ["--import", "tsx", `${ROOT}sidecar/cli/cli.ts`, "create-queue", ...args],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        AWS_REGION: "us-east-1",
        AWS_ACCESS_KEY_ID: "local",
        AWS_SECRET_ACCESS_KEY: "local",
        AWS_ENDPOINT_URL_SQS: endpoint,
      },
    },
  );
}

describe.each(sqsTargets())("auditq-sidecar create-queue ($name)", (target) => {
  it("creates the queue with a dead-letter queue, and finds them again on a second run", async () => {
    const name = uniqueName("auditq-cq");
    const { stdout } = await createQueue(target.endpoint, ["--queue-name", name]);
    const created = JSON.parse(stdout) as Record<string, string>;
    expect(created.queueUrl).toMatch(new RegExp(`/${name}$`));
    expect(created.dlqUrl).toMatch(new RegExp(`/${name}-dlq$`));
    const sqs = sqsClient(target);
    try {
      const { Attributes: attrs } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: created.queueUrl, AttributeNames: ["All"] }),
      );
      expect(JSON.parse(attrs?.RedrivePolicy ?? "{}")).toEqual({
        deadLetterTargetArn: created.dlqArn,
        maxReceiveCount: 100,
      });
      expect(attrs?.VisibilityTimeout).toBe("60");
      expect(attrs?.ReceiveMessageWaitTimeSeconds).toBe("20");

      const again = await createQueue(target.endpoint, [
        `--queue-name=${name}`,
        "--max-receive-count",
        "250",
      ]);
      expect(JSON.parse(again.stdout)).toEqual(created);
      const { Attributes: updated } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: created.queueUrl,
          AttributeNames: ["RedrivePolicy"],
        }),
      );
      expect(JSON.parse(updated?.RedrivePolicy ?? "{}").maxReceiveCount).toBe(250);
    } finally {
      for (const url of [created.queueUrl, created.dlqUrl]) {
        await sqs.send(new DeleteQueueCommand({ QueueUrl: url }));
      }
      sqs.destroy();
    }
  });
});

// Bad flags stop before any SQS call: the endpoint given here does not even answer.
describe("auditq-sidecar create-queue flags", () => {
  it.each([
    [[], /--queue-name is required/],
    [["--queue-name", "a.b"], /--queue-name: expected a standard queue name/],
    [
      ["--queue-name", "q", "--max-receive-count", "5000"],
      /--max-receive-count: expected 1 to 1000/,
    ],
    [
      ["--queue-name", "q", "--retention-seconds", "ten"],
      /--retention-seconds expects a whole number/,
    ],
    [["--queue-name", "q", "--fifo"], /unknown argument "--fifo"/],
  ])("refuses %j with exit code 2 and says why", async (args, message) => {
    const failed = await createQueue("http://127.0.0.1:9", args).then(
      () => undefined,
      (err: { code: number; stderr: string }) => err,
    );
    expect(failed?.code).toBe(2);
    expect(failed?.stderr).toMatch(message);
  });
});
