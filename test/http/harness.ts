// Apps on Express 4 and 5 with auditq mounted, and a stub SQS client that keeps what it is sent,
// decoded as the sidecar would decode it.
import { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { Document } from "bson";
import express5, {
  type ErrorRequestHandler,
  type Express,
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
} from "express";
import express4 from "express4";
import { Registry } from "prom-client";
import { type AuditqMiddleware, auditq, type Options } from "../../middleware/index.js";
import { decodeMessage } from "../../shared/wire/decoder.js";
import { silentLogger } from "../helpers/logger.js";

export const expressVersions = [
  { name: "Express 4", express: express4 as unknown as typeof express5, major: 4 },
  { name: "Express 5", express: express5, major: 5 },
];

interface Sink {
  sqs: SQSClient;
  records: Document[];
}

/** An SQSClient whose `send` accepts every SendMessageBatch and keeps the records. */
function stubSqs(): Sink {
  const records: Document[] = [];
  const sqs = new SQSClient({
    region: "us-east-1",
    credentials: { accessKeyId: "x", secretAccessKey: "x" },
  });
  sqs.send = (async (command: unknown) => {
    if (!(command instanceof SendMessageBatchCommand)) throw new Error("unexpected command");
    const entries = command.input.Entries ?? [];
    for (const entry of entries) {
      records.push(
        ...(await decodeMessage({
          Body: entry.MessageBody,
          MessageAttributes: entry.MessageAttributes,
        })),
      );
    }
    return { Successful: entries.map((e) => ({ Id: e.Id })), Failed: [] };
  }) as SQSClient["send"];
  return { sqs, records };
}

export interface Harness {
  audit: AuditqMiddleware;
  sink: Sink;
  errors: Error[];
  /** Waits (polling with a deadline) until `n` records arrived, and returns them. */
  records(n: number, timeoutMs?: number): Promise<Document[]>;
}

export function harness(options: Partial<Options> = {}): Harness {
  const sink = stubSqs();
  const errors: Error[] = [];
  const audit = auditq({
    queueUrl: "http://127.0.0.1:1/000000000000/stub",
    sqs: sink.sqs,
    lingerMs: 0,
    logger: silentLogger,
    onError: (err) => errors.push(err),
    // Each harness counts on its own; the default (prom-client's global registry) is tested apart.
    registry: new Registry(),
    ...options,
  });
  return {
    audit,
    sink,
    errors,
    async records(n, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (sink.records.length < n) {
        if (Date.now() > deadline) {
          throw new Error(`timed out waiting for ${n} records, got ${sink.records.length}`);
        }
        await audit.flush();
        if (sink.records.length < n) await new Promise((resolve) => setImmediate(resolve));
      }
      return sink.records;
    },
  };
}

/**
 * The app the HTTP tests drive: auth after auditq, a router mounted at a sub-path, params, an
 * async handler that throws, error middleware, a streaming response and a cacheable one.
 */
export function createCaptureApp(
  express: typeof express5,
  audit: AuditqMiddleware,
  major: number,
): Express {
  // Express 4 does not catch a rejected promise; wrap as apps on Express 4 do.
  const wrap =
    (fn: (req: Request, res: Response) => Promise<void>): RequestHandler =>
    (req, res, next: NextFunction) => {
      fn(req, res).catch(next);
    };
  const handler = (fn: (req: Request, res: Response) => Promise<void>): RequestHandler =>
    major === 4 ? wrap(fn) : (fn as unknown as RequestHandler);

  const app = express();
  app.use(audit);
  app.use(express.json());
  app.use((req: Request, _res: Response, next: NextFunction) => {
    const user = req.header("x-user");
    if (user) (req as Request & { user?: { id: string } }).user = { id: user };
    next();
  });

  const orders = express.Router();
  orders.get("/:id", (req, res) => {
    res.json({ id: req.params.id });
  });
  orders.post("/", (req, res) => {
    res.status(201).json({ received: req.body !== undefined });
  });
  orders.put(
    "/:id",
    handler(async (req, res) => {
      req.audit
        .action("order.update")
        .target("order", req.params.id as string)
        .set({ changed: ["qty"], password: "meta-secret" })
        .set({ reason: "customer" });
      res.json({ ok: true });
    }),
  );
  orders.delete(
    "/:id",
    handler(async (req) => {
      await Promise.resolve();
      throw new Error(`cannot delete order ${req.params.id}`);
    }),
  );
  const shop = express.Router({ mergeParams: true });
  shop.use("/orders", orders);
  app.use("/shops/:shopId", shop);

  app.get("/reset/:token", (_req, res) => {
    res.send("ok");
  });
  app.get("/etag", (_req, res) => {
    res.send("same body every time");
  });
  app.get("/private", (req, res) => {
    req.audit.skip();
    res.send("not audited");
  });
  app.get("/stream", (_req, res) => {
    res.writeHead(200, { "content-type": "text/plain" });
    res.write("first chunk\n");
    // The rest never comes: the client goes away. A timer would keep the test process busy.
  });
  app.get("/stream-complete", (_req, res) => {
    res.write("a");
    setImmediate(() => res.end("b"));
  });
  const captureErrors: ErrorRequestHandler = audit.captureErrors;
  app.use(captureErrors);
  app.use(((err: Error, _req, res, _next) => {
    res.status(500).json({ error: "internal", leaked: err === undefined });
  }) as ErrorRequestHandler);
  return app;
}
