// The binary payload layout (`binaryPayload`) on both real SQS servers: what goes on the wire,
// exactly-once delivery beside base64 messages, signatures over the payload bytes, and what the
// quarantine keeps of a payload it cannot decode.
import { randomBytes } from "node:crypto";
import { brotliCompressSync } from "node:zlib";
import { type Message, ReceiveMessageCommand, SendMessageBatchCommand } from "@aws-sdk/client-sqs";
import { Registry } from "prom-client";
import request from "supertest";
import { describe, expect, it } from "vitest";
import { Batcher } from "../../middleware/batcher/batcher.js";
import { createMiddlewareMetrics } from "../../middleware/config/metrics.js";
import { auditq } from "../../middleware/index.js";
import { decodeEnvelope } from "../../shared/wire/decoder.js";
import { ENVELOPE_ATTRIBUTES, envelopeBody } from "../../shared/wire/envelope.js";
import { ATTR_PAYLOAD, payloadBody } from "../../shared/wire/payload-attribute.js";
import { serializeRecord } from "../../shared/wire/record-json.js";
import { ATTR_SIGNATURE, signMessage } from "../../shared/wire/signature.js";
import { messageBytes } from "../../shared/wire/sqs-limits.js";
import { createApp } from "../helpers/app.js";
import { silentLogger } from "../helpers/logger.js";
import { metricValue } from "../helpers/metric-value.js";
import { makeRecord, sendRecords } from "../helpers/queue-records.js";
import { createTestQueue, sqsClient, sqsTargets } from "../helpers/services.js";
import { useSidecarRig } from "../helpers/sidecar-rig.js";
import { untilStored } from "../helpers/until-stored.js";

const secret = () => randomBytes(24).toString("base64");

describe.each(sqsTargets())("binary payload on $name", (target) => {
  const rig = useSidecarRig(target);

  /** `n` requests through an app with auditq (binaryPayload on), all sent before it returns. */
  async function produce(n: number, options: { signingSecret?: string } = {}) {
    const audit = auditq({
      queueUrl: rig.queue.queueUrl,
      sqs: sqsClient(target),
      logger: silentLogger,
      spool: false,
      registry: new Registry(),
      binaryPayload: true,
      ...options,
    });
    const app = createApp(audit);
    for (let i = 0; i < n; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, n - i) }, (_, j) =>
          request(app)
            .get(`/orders/${i + j}`)
            .expect(200),
        ),
      );
    }
    await audit.close();
    return audit;
  }

  async function receiveAll(): Promise<Message[]> {
    const out = await rig.queue.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: rig.queue.queueUrl,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ["All"],
        VisibilityTimeout: 0,
        WaitTimeSeconds: 1,
      }),
    );
    return out.Messages ?? [];
  }

  it("sends the compressed records as raw bytes in a Binary attribute, and bills them so", async () => {
    const n = 400;
    const audit = await produce(n);
    const messages = await receiveAll();
    expect(messages.length).toBeGreaterThan(0);
    let records = 0;
    let bytes = 0;
    for (const m of messages) {
      if (m.Body?.startsWith('{"auditq":1,"n":0,"records":[]')) {
        // The end of the stream close() sends: a control message of no record, plain JSON.
        expect(decodeEnvelope(m.Body).stream?.end).toBe(true);
        bytes += messageBytes(m.Body, m.MessageAttributes);
        continue;
      }
      const payload = m.MessageAttributes?.[ATTR_PAYLOAD];
      expect(payload?.DataType).toBe("Binary.br");
      expect(payload?.BinaryValue?.byteLength).toBeGreaterThan(100);
      const count = Number(/"n":(\d+)/.exec(m.Body ?? "")?.[1]);
      expect(m.Body).toBe(payloadBody(count));
      // No auditq-encoding: a sidecar that predates the layout reads the body as version 2.
      expect(Object.keys(m.MessageAttributes ?? {}).sort()).toEqual([
        "auditq-format",
        ATTR_PAYLOAD,
      ]);
      records += count;
      bytes += messageBytes(m.Body ?? "", m.MessageAttributes);
    }
    expect(records).toBe(n);
    // The producer counts (and bills) the bytes SQS holds: the payload by its raw bytes.
    const metrics = await audit.registry.metrics();
    expect(metricValue(metrics, "auditq_sqs_sent_bytes_total")).toBe(bytes);
    const billed = metricValue(
      metrics,
      'auditq_sqs_billed_requests_total\\{operation="SendMessageBatch"\\}',
    );
    expect(billed).toBeGreaterThanOrEqual(Math.ceil(bytes / 65_536));
    await rig.start();
    await untilStored(rig, { records: n, quarantined: 0 });
  });

  it("stores every record once from binary-payload and base64 messages on one queue, signed", async () => {
    const key = secret();
    // A producer of the previous layout (base64 bodies), then one with the binary payload.
    const old = auditq({
      queueUrl: rig.queue.queueUrl,
      sqs: sqsClient(target),
      logger: silentLogger,
      spool: false,
      registry: new Registry(),
      signingSecret: key,
    });
    const app = createApp(old);
    await Promise.all(
      Array.from({ length: 150 }, (_, i) => request(app).get(`/orders/old-${i}`).expect(200)),
    );
    await old.close();
    await produce(250, { signingSecret: key });
    const sidecar = await rig.start({ signingSecret: key });
    await untilStored(rig, { records: 400, quarantined: 0 });
    const received = metricValue(
      await sidecar.registry.metrics(),
      'auditq_sidecar_sqs_billed_requests_total\\{operation="ReceiveMessage"\\}',
    );
    expect(received).toBeGreaterThan(0);
  });

  it.runIf(target.name === "fauxqs")(
    "re-packs a message a server refuses for counting its payload as base64, losing nothing",
    async () => {
      // fauxqs counts a Binary value by its base64 text, AWS's Extended Client Library by its
      // bytes: a message that fits by its bytes but not as base64 is refused here. The producer
      // re-packs it in two, as any refused message, and nothing is lost.
      const queue = await createTestQueue(target, { MaximumMessageSize: "40000" });
      const metrics = createMiddlewareMetrics(new Registry());
      const errors: unknown[] = [];
      // The real client, watched: how many entries the server refused.
      const sqs = sqsClient(target);
      const send = sqs.send.bind(sqs) as (...args: unknown[]) => Promise<{ Failed?: unknown[] }>;
      let refusedEntries = 0;
      sqs.send = (async (...args: unknown[]) => {
        const out = await send(...args);
        refusedEntries += out?.Failed?.length ?? 0;
        return out;
      }) as typeof sqs.send;
      const b = new Batcher({
        sqs,
        queueUrl: queue.queueUrl,
        lingerMs: 20,
        maxMessageBytes: 40_000,
        maxBatchBytes: 262_144,
        maxBufferBytes: 4 * 1024 * 1024,
        maxInflight: 2,
        retry: { baseMs: 50, maxMs: 500 },
        logger: silentLogger,
        metrics,
        onError: (err) => errors.push(err),
        binaryPayload: true,
      });
      // Random text compresses to about three quarters: messages near the limit by their bytes.
      const n = 600;
      for (let i = 0; i < n; i++) b.add({ i, pad: randomBytes(150).toString("base64") });
      await b.flush();
      expect(await b.close(10_000)).toEqual({ sent: n, spooled: 0, dropped: 0 });
      expect(errors).toEqual([]);
      expect(refusedEntries).toBeGreaterThan(0);
      const landed = await queue.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queue.queueUrl,
          MaxNumberOfMessages: 10,
          MessageAttributeNames: ["All"],
        }),
      );
      expect(landed.Messages?.[0]?.MessageAttributes?.[ATTR_PAYLOAD]?.DataType).toBe("Binary.br");
      await queue.dispose();
    },
  );

  it("quarantines a message whose payload bytes were changed, keeping the bytes", async () => {
    const key = secret();
    const records = Array.from({ length: 5 }, (_, i) => makeRecord(i));
    const compressed = brotliCompressSync(envelopeBody(records.map(serializeRecord)));
    const attributes = {
      ...ENVELOPE_ATTRIBUTES,
      [ATTR_PAYLOAD]: { DataType: "Binary.br", BinaryValue: compressed },
    };
    const body = payloadBody(records.length);
    const signature = signMessage(body, attributes, key);
    const tampered = Buffer.from(compressed);
    tampered[tampered.length - 1] = (tampered.at(-1) as number) ^ 1;
    await rig.queue.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: rig.queue.queueUrl,
        Entries: [
          {
            Id: "0",
            MessageBody: body,
            MessageAttributes: {
              ...attributes,
              [ATTR_PAYLOAD]: { DataType: "Binary.br", BinaryValue: tampered },
              [ATTR_SIGNATURE]: { DataType: "String", StringValue: signature },
            },
          },
        ],
      }),
    );
    await rig.start({ signingSecret: key });
    await untilStored(rig, { records: 0, quarantined: 1 });
    const [entry] = await rig.mongo.db.collection("records_quarantine").find().toArray();
    expect(entry?.error.message).toMatch(/does not match any signing secret/);
    expect(Buffer.from(entry?.payload.buffer).equals(tampered)).toBe(true);
    expect(entry?.attributes[ATTR_PAYLOAD]).toBe(`(binary, ${tampered.length} bytes)`);
  });

  it("quarantines a version-2 body without its payload attribute, saying what is missing", async () => {
    await sendRecords(rig.queue.sqs, rig.queue.queueUrl, 1);
    await rig.queue.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: rig.queue.queueUrl,
        Entries: [{ Id: "0", MessageBody: payloadBody(3), MessageAttributes: ENVELOPE_ATTRIBUTES }],
      }),
    );
    await rig.start();
    await untilStored(rig, { records: 1, quarantined: 1 });
    const [entry] = await rig.mongo.db.collection("records_quarantine").find().toArray();
    expect(entry?.error.message).toMatch(/records in the auditq-payload message attribute/);
  });
});
