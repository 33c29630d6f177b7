// A counting HTTP proxy in front of the SQS server, in its own process (its CPU is nobody's):
// every call by operation, and billed requests as SQS bills them, one per started 64 KiB of
// payload (message bodies plus attributes, a Binary one by its bytes, sent or received), at least
// one per call.
//
//   tsx bench/anchors/sqs-proxy.ts <sqs endpoint>   → prints its port; GET /__counts, DELETE resets
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { billedRequests } from "../../shared/wire/sqs-limits.js";
import { type Carried, wirePayloadBytes } from "./wire-payload.js";

export interface OperationCounts {
  calls: number;
  billed: number;
}
export type WireCounts = Record<string, OperationCounts>;

function parse(body: Buffer): Record<string, unknown> {
  try {
    return JSON.parse(body.toString("utf8") || "{}") as Record<string, unknown>;
  } catch {
    return {};
  }
}

function run(target: URL): void {
  let counts: WireCounts = {};
  const count = (operation: string, payload: number) => {
    const c = counts[operation] ?? { calls: 0, billed: 0 };
    counts[operation] = c;
    c.calls++;
    c.billed += billedRequests(payload);
  };
  const server = createServer((req, res) => {
    if (req.url === "/__counts") {
      res.end(JSON.stringify(counts));
      if (req.method === "DELETE") counts = {};
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      // The JSON protocol names the operation in a header (AmazonSQS.SendMessageBatch).
      const operation = String(req.headers["x-amz-target"] ?? "unknown")
        .split(".")
        .pop() as string;
      const input = parse(body);
      const upstream = request(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (up) => {
          const answer: Buffer[] = [];
          up.on("data", (c: Buffer) => answer.push(c));
          up.on("end", () => {
            const out = Buffer.concat(answer);
            let payload = 0;
            let counted = operation;
            if (operation === "SendMessage") payload = wirePayloadBytes([input as Carried]);
            else if (operation === "SendMessageBatch") {
              payload = wirePayloadBytes(input.Entries as Carried[]);
            } else if (operation === "ReceiveMessage") {
              const messages = parse(out).Messages as Carried[] | undefined;
              payload = wirePayloadBytes(messages);
              // Empty long polls are billed too; counted apart, they show what idle time costs.
              if (!messages?.length) counted = "ReceiveMessage (empty)";
            }
            count(counted, payload);
            if (process.env.BENCH_PROXY_TRACE) {
              const n =
                operation === "ReceiveMessage"
                  ? ((parse(out).Messages as unknown[] | undefined)?.length ?? 0)
                  : ((input.Entries as unknown[] | undefined)?.length ?? 1);
              process.stderr.write(`${Date.now()} ${counted} ${n} messages ${payload} bytes\n`);
            }
            res.writeHead(up.statusCode ?? 502, up.headers);
            res.end(out);
          });
        },
      );
      upstream.on("error", (err) => {
        res.writeHead(502);
        res.end(String(err));
      });
      upstream.end(body);
    });
  });
  server.listen(0, "127.0.0.1", () => {
    process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
  });
}

if (process.argv[2] !== undefined) run(new URL(process.argv[2]));
