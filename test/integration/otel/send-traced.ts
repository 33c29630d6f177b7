// Child process of otel-attributes.test.ts: OpenTelemetry's aws-sdk instrumentation, with a real
// tracer provider, registered before the SDK loads (as auto-instrumentation does); then auditq
// sends records through it. Prints the spans of the SendMessageBatch calls as JSON.
import { register } from "node:module";
import { registerInstrumentations } from "@opentelemetry/instrumentation";
import { AwsInstrumentation } from "@opentelemetry/instrumentation-aws-sdk";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";

// The ESM loader hook the instrumentation needs to patch modules loaded with `import`.
register("@opentelemetry/instrumentation/hook.mjs", import.meta.url);

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
provider.register();
registerInstrumentations({ instrumentations: [new AwsInstrumentation()] });

async function main(): Promise<void> {
  // Loaded only now, after the hook and the instrumentation, as auto-instrumentation arranges.
  const { SQSClient } = await import("@aws-sdk/client-sqs");
  const { Batcher } = await import("../../../middleware/batcher/batcher.js");
  const { createMiddlewareMetrics } = await import("../../../middleware/config/metrics.js");
  const { envelopeAttributes } = await import("../../../shared/wire/envelope.js");
  const { Registry } = await import("prom-client");
  const { ObjectId } = await import("bson");
  const sqs = new SQSClient({
    endpoint: process.env.SQS_ENDPOINT,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  const quiet = () => undefined;
  const batcher = new Batcher({
    sqs,
    queueUrl: process.env.QUEUE_URL as string,
    lingerMs: 0,
    maxMessageBytes: 262_144,
    maxBatchBytes: 262_144,
    maxBufferBytes: 16 * 1024 * 1024,
    maxInflight: 1,
    retry: { baseMs: 10, maxMs: 100 },
    logger: { debug: quiet, info: quiet, warn: quiet, error: quiet },
    metrics: createMiddlewareMetrics(new Registry()),
    onError: quiet,
    compression: process.env.COMPRESSION === "none" ? "identity" : "br",
    spool: undefined,
  });
  // Several calls, one record each, so each call's span differs.
  for (let i = 0; i < 6; i++) {
    batcher.add({ _id: new ObjectId(), v: 1, ts: new Date(), action: `call ${i}` });
    await batcher.flush();
  }
  await batcher.close(5000);
  const spans = exporter
    .getFinishedSpans()
    .filter((s: { name: string }) => s.name.includes("send"))
    .map((s: { spanContext(): { traceId: string; spanId: string } }) => s.spanContext());
  const shared = (["identity", "gzip", "br"] as const).map((e) =>
    Object.keys(envelopeAttributes(e)),
  );
  process.stdout.write(JSON.stringify({ spans, shared }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
