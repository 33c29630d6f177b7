// `compression: "zstd"` on both real SQS servers: what goes on the wire in each layout, every
// record stored once beside brotli messages on one queue (signed), and zstd bombs quarantined.
import { randomBytes } from "node:crypto";
import { constants, zstdCompressSync } from "node:zlib";
import { type Message, ReceiveMessageCommand, SendMessageBatchCommand } from "@aws-sdk/client-sqs";
import { Registry } from "prom-client";
import request from "supertest";
import { describe, expect, it } from "vitest";
import type { Options } from "../../middleware/config/options.js";
import { auditq } from "../../middleware/index.js";
import { MAX_DECODED_BODY_BYTES } from "../../shared/wire/body-codec.js";
import { ENVELOPE_ATTRIBUTES, envelopeAttributes } from "../../shared/wire/envelope.js";
import { ATTR_PAYLOAD, payloadBody } from "../../shared/wire/payload-attribute.js";
import { createApp } from "../helpers/app.js";
import { silentLogger } from "../helpers/logger.js";
import { sendBodies, sendRecords } from "../helpers/queue-records.js";
import { sqsClient, sqsTargets } from "../helpers/services.js";
import { useSidecarRig } from "../helpers/sidecar-rig.js";
import { untilStored } from "../helpers/until-stored.js";

describe.each(sqsTargets())("zstd compression on $name", (target) => {
  const rig = useSidecarRig(target);

  /** `n` requests through an app with auditq given `options`, all sent before it returns. */
  async function produce(n: number, prefix: string, options: Partial<Options>) {
    const audit = auditq({
      queueUrl: rig.queue.queueUrl,
      sqs: sqsClient(target),
      logger: silentLogger,
      spool: false,
      registry: new Registry(),
      ...options,
    });
    const app = createApp(audit);
    for (let i = 0; i < n; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, n - i) }, (_, j) =>
          request(app)
            .get(`/orders/${prefix}-${i + j}`)
            .expect(200),
        ),
      );
    }
    await audit.close();
  }

  async function receiveAll(): Promise<Message[]> {
    const messages: Message[] = [];
    for (;;) {
      const out = await rig.queue.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: rig.queue.queueUrl,
          MaxNumberOfMessages: 10,
          MessageAttributeNames: ["All"],
          VisibilityTimeout: 30,
          WaitTimeSeconds: 1,
        }),
      );
      if (!out.Messages?.length) return messages;
      messages.push(...out.Messages);
    }
  }

  it("names zstd on the wire in both layouts", async () => {
    await produce(300, "b64", { compression: "zstd" });
    await produce(300, "bin", { compression: "zstd", binaryPayload: true });
    const all = await receiveAll();
    // A clean close ends each producer's stream with a control message of no record, too small
    // to compress: plain JSON, no encoding attribute.
    const isEndOfStream = (m: (typeof all)[number]) =>
      m.MessageAttributes?.[ATTR_PAYLOAD] === undefined &&
      m.MessageAttributes?.["auditq-encoding"] === undefined &&
      JSON.parse(m.Body ?? "{}").stream?.end === true;
    expect(all.filter(isEndOfStream)).toHaveLength(2);
    const messages = all.filter((m) => !isEndOfStream(m));
    const layouts = new Set(
      messages.map((m) =>
        m.MessageAttributes?.[ATTR_PAYLOAD]
          ? m.MessageAttributes[ATTR_PAYLOAD].DataType
          : m.MessageAttributes?.["auditq-encoding"]?.StringValue,
      ),
    );
    expect([...layouts].sort()).toEqual(["Binary.zstd", "zstd"]);
    const magic = (bytes: Uint8Array | Buffer) => Buffer.from(bytes).readUInt32LE(0);
    for (const m of messages) {
      const payload = m.MessageAttributes?.[ATTR_PAYLOAD]?.BinaryValue;
      const bytes = payload ?? Buffer.from(m.Body ?? "", "base64");
      expect(magic(bytes)).toBe(0xfd2fb528);
    }
  });

  it("stores every record once from zstd, brotli and plain messages on one queue, signed", async () => {
    const signingSecret = randomBytes(24).toString("base64");
    await produce(120, "br", { signingSecret });
    await produce(150, "zstd", { signingSecret, compression: "zstd" });
    await produce(130, "zstd-bin", { signingSecret, compression: "zstd", binaryPayload: true });
    await produce(5, "plain", { signingSecret, compression: "none" });
    await rig.start({ signingSecret });
    await untilStored(rig, { records: 405, quarantined: 0 });
  });

  it("quarantines zstd bombs, body and payload, and writes the good messages", async () => {
    // Without the decompressed size in the frame header, as a hostile producer may send it.
    const bomb = zstdCompressSync(Buffer.alloc(MAX_DECODED_BODY_BYTES + 1024, 0x20), {
      params: { [constants.ZSTD_c_contentSizeFlag]: 0 },
    });
    expect(bomb.length).toBeLessThan(4096);
    const before = await sendRecords(rig.queue.sqs, rig.queue.queueUrl, 100, 50);
    await sendBodies(rig.queue.sqs, rig.queue.queueUrl, [bomb.toString("base64")], {
      ...envelopeAttributes("zstd"),
    });
    await rig.queue.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: rig.queue.queueUrl,
        Entries: [
          {
            Id: "0",
            MessageBody: payloadBody(1),
            MessageAttributes: {
              ...ENVELOPE_ATTRIBUTES,
              [ATTR_PAYLOAD]: { DataType: "Binary.zstd", BinaryValue: bomb },
            },
          },
        ],
      }),
    );
    const after = await sendRecords(rig.queue.sqs, rig.queue.queueUrl, 100, 50);
    await rig.start();
    await untilStored(rig, { records: before.length + after.length, quarantined: 2 });
    const reasons = (await rig.mongo.db.collection("records_quarantine").find().toArray()).map(
      (e) => String(e.error?.message),
    );
    expect(reasons.sort()).toEqual([
      expect.stringMatching(/^auditq-payload attribute decompresses to more than 33554432 bytes/),
      expect.stringMatching(/^message body decompresses to more than 33554432 bytes/),
    ]);
  });
});
