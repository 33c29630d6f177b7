// A client auditq builds is shared by instances of the same plain settings, never with an app's
// credentials or client, and destroyed 10 s after the last instance holding it gave it back.
import { SQSClient } from "@aws-sdk/client-sqs";
import { describe, expect, it, vi } from "vitest";
import { createClients } from "../../../../middleware/config/clients.js";
import type { Options } from "../../../../middleware/config/options.js";
import { resolveOptions } from "../../../../middleware/config/resolve.js";

const queueUrl = "http://127.0.0.1:9/000000000000/shared";
const clients = (sqs: Options["sqs"], extra: Partial<Options> = {}) =>
  createClients(resolveOptions({ queueUrl, sqs, ...extra }));

describe("SQS clients auditq builds", () => {
  it("are shared by instances with the same settings, and not across different ones", () => {
    const a = clients({ region: "us-east-1", endpoint: "http://127.0.0.1:9" });
    const b = clients({ endpoint: "http://127.0.0.1:9", region: "us-east-1" });
    const other = clients({ region: "us-east-1", endpoint: "http://127.0.0.1:10" });
    const slower = clients(
      { region: "us-east-1", endpoint: "http://127.0.0.1:9" },
      { sendTimeoutMs: 60_000 },
    );
    expect(b.sqs).toBe(a.sqs);
    expect(other.sqs).not.toBe(a.sqs);
    expect(slower.sqs).not.toBe(a.sqs);
    for (const c of [a, b, other, slower]) c.release();
  });

  it("are kept 10 s after the last instance gave theirs back, for the next one, then destroyed", () => {
    vi.useFakeTimers();
    try {
      const a = clients({ region: "eu-west-1" });
      const b = clients({ region: "eu-west-1" });
      const destroy = vi.spyOn(a.sqs, "destroy");
      a.release();
      a.release(); // twice is once
      b.release();
      vi.advanceTimersByTime(9_000);
      expect(destroy).not.toHaveBeenCalled();
      // The next instance within the 10 s takes the same client and stops the countdown.
      const c = clients({ region: "eu-west-1" });
      expect(c.sqs).toBe(a.sqs);
      vi.advanceTimersByTime(60_000);
      expect(destroy).not.toHaveBeenCalled();
      c.release();
      vi.advanceTimersByTime(10_000);
      expect(destroy).toHaveBeenCalledTimes(1);
      const d = clients({ region: "eu-west-1" });
      expect(d.sqs).not.toBe(a.sqs);
      d.release();
    } finally {
      vi.useRealTimers();
    }
  });

  it("are not shared when the settings hold credentials or other objects", () => {
    const credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "not-a-secret" };
    const a = clients({ region: "us-east-1", credentials });
    const b = clients({ region: "us-east-1", credentials });
    expect(b.sqs).not.toBe(a.sqs);
    const destroy = vi.spyOn(a.sqs, "destroy");
    a.release();
    expect(destroy).toHaveBeenCalledTimes(1);
    b.release();
  });

  it("never destroys a client the app passed in", () => {
    const given = new SQSClient({ region: "us-east-1" });
    const destroy = vi.spyOn(given, "destroy");
    const a = clients(given);
    expect(a.sqs).toBe(given);
    a.release();
    expect(destroy).not.toHaveBeenCalled();
    given.destroy();
  });
});
