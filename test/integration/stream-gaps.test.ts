// The online gap gauge on real servers: records a producer numbered that MongoDB does not hold
// and no loss statement explains show in auditq_sidecar_stream_gap_records; a complete stream
// and stated losses do not.
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { ObjectId } from "mongodb";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ENVELOPE_ATTRIBUTES, envelopeBody } from "../../shared/wire/envelope.js";
import { serializeRecord } from "../../shared/wire/record-json.js";
import type { StreamMark } from "../../shared/wire/stream.js";
import type { Sidecar } from "../../sidecar/index.js";
import { metricValue } from "../helpers/metric-value.js";
import {
  createTestDb,
  createTestQueue,
  type SqsTarget,
  sqsClient,
  sqsTargets,
  type TestDb,
  type TestQueue,
  waitFor,
} from "../helpers/services.js";
import { testSidecar } from "../helpers/sidecar-rig.js";
import { untilStored } from "../helpers/until-stored.js";

const GAPPY = "GappyGappyGappyGappy01";
const WHOLE = "WholeWholeWholeWhole01";

function recordsOf(stream: string, ns: readonly number[]) {
  return ns.map((n) =>
    serializeRecord({ _id: new ObjectId(), ts: new Date(), v: 2, seq: { stream, n } }),
  );
}

describe("stream gap gauge", () => {
  const target = sqsTargets()[0] as SqsTarget;
  let queue: TestQueue;
  let mongo: TestDb;
  let sidecar: Sidecar | undefined;

  beforeEach(async () => {
    queue = await createTestQueue(target);
    mongo = await createTestDb();
  });

  afterEach(async () => {
    await sidecar?.stop();
    sidecar = undefined;
    await queue.dispose();
    await mongo.dispose();
  });

  async function send(records: string[], mark: StreamMark): Promise<void> {
    await sqsClient(target).send(
      new SendMessageCommand({
        QueueUrl: queue.queueUrl,
        MessageBody: envelopeBody(records, mark),
        MessageAttributes: ENVELOPE_ATTRIBUTES,
      }),
    );
  }

  it("counts records missing past the settle time that no statement explains", async () => {
    // GAPPY: 1, 2 and 6 stored; 3 stated lost; 4 and 5 missing unexplained.
    await send(recordsOf(GAPPY, [1, 2]), {
      id: GAPPY,
      hwm: 3,
      lost: [{ from: 3, to: 3, reason: "buffer-full" }],
    });
    await send(recordsOf(GAPPY, [6]), { id: GAPPY, hwm: 6 });
    await send(recordsOf(WHOLE, [1, 2, 3]), { id: WHOLE, hwm: 3, end: true });
    sidecar = testSidecar(target, queue, mongo, { streamGapSettleMs: 200 });
    await sidecar.start();
    await untilStored({ queue, mongo }, { records: 6, quarantined: 0 });
    const registry = sidecar.registry;
    const gauge = (stream: string) =>
      registry.metrics().then((text) => ({
        text,
        value: metricValue(text, `auditq_sidecar_stream_gap_records\\{stream="${stream}"\\}`),
      }));
    const gappy = await waitFor(
      "GAPPY's gap in the gauge",
      () => gauge(GAPPY),
      (g) => g.value > 0,
    );
    expect(gappy.value).toBe(2);
    expect(gappy.text).not.toContain(WHOLE);
    expect(metricValue(gappy.text, 'auditq_sidecar_stream_gap_records\\{stream="other"\\}')).toBe(
      0,
    );
    // The missing records arrive (another sidecar of a fleet stored them): the gap closes.
    await send(recordsOf(GAPPY, [4, 5]), { id: GAPPY, hwm: 6 });
    await waitFor(
      "GAPPY's gap closed",
      () => gauge(GAPPY),
      (g) => !g.text.includes(GAPPY),
    );
  });
});
