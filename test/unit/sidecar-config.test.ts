import { describe, expect, it } from "vitest";
import { readConfig } from "../../sidecar/config.js";

const base = {
  AUDITQ_QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/audit",
  AUDITQ_MONGODB_URI: "mongodb://db:27017/",
};

describe("sidecar readConfig", () => {
  it("fills in defaults", () => {
    expect(readConfig(base)).toEqual({
      queueUrl: base.AUDITQ_QUEUE_URL,
      mongodbUri: base.AUDITQ_MONGODB_URI,
      database: "auditq",
      collection: "records",
      metricsPort: 9464,
      logLevel: "info",
    });
  });

  it("names every missing required variable", () => {
    expect(() => readConfig({})).toThrow(
      /AUDITQ_QUEUE_URL is not set[\s\S]*AUDITQ_MONGODB_URI is not set/,
    );
  });

  it.each([
    ["AUDITQ_QUEUE_URL", "queue"],
    ["AUDITQ_MONGODB_URI", "postgres://x"],
    ["AUDITQ_METRICS_PORT", "70000"],
    ["AUDITQ_METRICS_PORT", "abc"],
    ["AUDITQ_DATABASE", "a.b"],
    ["AUDITQ_LOG_LEVEL", "loud"],
  ])("rejects malformed %s=%s by name", (name, value) => {
    expect(() => readConfig({ ...base, [name]: value })).toThrow(new RegExp(`${name}=.*malformed`));
  });
});
