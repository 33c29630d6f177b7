import { describe, expect, it } from "vitest";
import { startupConfigError } from "../../../../sidecar/cli/startup-error.js";

const named = (name: string, message: string) => Object.assign(new Error(message), { name });
const sysError = (code: string, syscall: string) =>
  Object.assign(new Error(`${syscall} ${code}`), { code, syscall });

describe("startupConfigError", () => {
  it("names AUDITQ_MONGODB_URI for what the driver refuses, without the password", () => {
    const err = startupConfigError(
      named("MongoParseError", "bad mongodb://admin:S3cretPassw0rd@db/ option"),
    );
    expect(err?.option).toBe("mongo");
    expect(err?.message).toMatch(
      /^AUDITQ_MONGODB_URI \(--mongodb-uri\): the MongoDB driver refuses/,
    );
    expect(err?.message).not.toContain("S3cretPassw0rd");
  });

  it("names the metrics port or host for what listen refuses", () => {
    const bind = { host: "0.0.0.0", port: 80 };
    expect(startupConfigError(sysError("EACCES", "listen"), bind)?.option).toBe("metricsPort");
    expect(startupConfigError(sysError("EADDRINUSE", "listen"), bind)?.option).toBe("metricsPort");
    expect(startupConfigError(sysError("EADDRNOTAVAIL", "listen"), bind)?.option).toBe(
      "metricsHost",
    );
  });

  it("leaves everything else alone: a bug or a service is no configuration error", () => {
    expect(startupConfigError(new TypeError("x is undefined"))).toBeUndefined();
    expect(startupConfigError(named("MongoNetworkError", "ECONNREFUSED"))).toBeUndefined();
    expect(
      startupConfigError(sysError("ECONNREFUSED", "connect"), { host: "h", port: 1 }),
    ).toBeUndefined();
    expect(startupConfigError("text")).toBeUndefined();
  });
});
