// auditq_records_sent_total counts each record SQS stored once, whatever happens after SQS has
// answered: an app logger that throws, a spool that cannot mark messages done.
import type { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { ObjectId } from "bson";
import { Registry } from "prom-client";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createMiddlewareMetrics } from "../../../../middleware/config/metrics.js";
import type { Logger } from "../../../../shared/util/logger.js";
import { decodeBody } from "../../../../shared/wire/decoder.js";
import { testBatcher } from "../../../helpers/batcher-config.js";
import { silentLogger } from "../../../helpers/logger.js";

type Entry = { Id: string; MessageBody: string };

/** SQS that refuses the first call (a network error) and stores every later one. */
function flakySqs() {
  const stored: string[] = [];
  let calls = 0;
  const client = {
    send: vi.fn(async (command: SendMessageBatchCommand) => {
      calls++;
      const entries = command.input.Entries as unknown as Entry[];
      if (calls === 1) throw new Error("connect ECONNREFUSED");
      for (const e of entries) {
        for (const r of decodeBody(e.MessageBody)) stored.push(String(r._id));
      }
      return { Successful: entries.map((e) => ({ Id: e.Id })) };
    }),
  };
  return { client: client as unknown as SQSClient, stored, calls: () => calls };
}

async function sentTotal(registry: Registry): Promise<number> {
  const metric = await registry.getSingleMetric("auditq_records_sent_total")?.get();
  return metric?.values[0]?.value ?? Number.NaN;
}

describe("auditq_records_sent_total", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("counts each stored record once when the app's logger throws after SQS recovers", async () => {
    const sqs = flakySqs();
    // "SQS takes messages again" is logged at info after a failure: this logger throws there
    // (pino writing synchronously to a full pipe does, with EAGAIN).
    const logger: Logger = {
      ...silentLogger,
      info: () => {
        throw new Error("EAGAIN");
      },
    };
    const registry = new Registry();
    const { batcher, errors } = testBatcher(sqs.client, {
      lingerMs: 50,
      logger,
      metrics: createMiddlewareMetrics(registry),
    });
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const id = new ObjectId();
      ids.push(String(id));
      batcher.add({ _id: id, ts: new Date(), pad: "x".repeat(100) });
    }
    const flushed = batcher.flush();
    await vi.advanceTimersByTimeAsync(5_000);

    // Every record reached SQS exactly once after the failed first call, and is counted once.
    expect([...sqs.stored].sort()).toEqual([...ids].sort());
    expect(await sentTotal(registry)).toBe(ids.length);
    // The logger's failure is reported, not turned into a resend.
    expect(errors.some((e) => /bookkeeping/.test(e.message))).toBe(true);
    await flushed;
    const closed = batcher.close(1000);
    await vi.advanceTimersByTimeAsync(1000);
    expect((await closed).sent).toBe(ids.length);
  });
});
