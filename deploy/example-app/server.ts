// The example audited app of docker-compose.yml and of the Prometheus test: an Express app with
// auditq and prom-client's /metrics, as a user would wire them. Configured by environment:
//   AUDITQ_QUEUE_URL (required), PORT (default 3000), HOST (default 0.0.0.0),
//   AUDITQ_SPOOL_DIR (optional; default: auditq's own default under the OS tmpdir).
// SQS endpoint, region and credentials come from the AWS SDK's chain (AWS_ENDPOINT_URL_SQS...).
import express from "express";
import { register } from "prom-client";
import { auditq } from "../../middleware/index.js";

const queueUrl = process.env.AUDITQ_QUEUE_URL;
if (!queueUrl) {
  console.error("example-app: AUDITQ_QUEUE_URL is not set");
  process.exit(2);
}

const audit = auditq({
  queueUrl,
  service: { name: "example-app" },
  ...(process.env.AUDITQ_SPOOL_DIR ? { spool: { dir: process.env.AUDITQ_SPOOL_DIR } } : {}),
});

const app = express();
// Before auditq: scrapes and probes are not user operations.
app.get("/metrics", async (_req, res) => {
  res.set("content-type", register.contentType).send(await register.metrics());
});
app.get("/healthz", (_req, res) => {
  res.send("ok\n");
});
app.use(audit);
app.use(express.json());
app.get("/orders/:id", (req, res) => {
  req.audit.target("order", req.params.id);
  res.json({ id: req.params.id });
});
app.post("/orders", (req, res) => {
  req.audit
    .action("order.create")
    .set({ items: Array.isArray(req.body?.items) ? req.body.items.length : 0 });
  res.status(201).json({ ok: true });
});

const server = app.listen(
  Number(process.env.PORT ?? 3000),
  process.env.HOST ?? "0.0.0.0",
  (err) => {
    if (err) {
      console.error("example-app: cannot listen", err);
      process.exit(1);
    }
    console.log(`example-app listening on ${JSON.stringify(server.address())}`);
  },
);
// Stop taking requests, then drain auditq's buffer (and spool) to SQS before exiting.
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    server.close();
    audit.close().then(
      (report) => {
        console.log(`example-app stopped: ${JSON.stringify(report)}`);
        process.exit(0);
      },
      (err: unknown) => {
        console.error("example-app: close failed", err);
        process.exit(1);
      },
    );
  });
}
