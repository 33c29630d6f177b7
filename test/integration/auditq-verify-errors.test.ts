// `auditq verify`'s usage and connection errors: exit 2, one line on stderr, no credential.
import { describe, expect, it } from "vitest";
import { runAuditq } from "../helpers/auditq-cli.js";

const SECRET = "s3cretPassw0rd";

describe("auditq verify errors", () => {
  it("refuses an unknown flag with exit 2 and one line", async () => {
    const run = await runAuditq(["verify", "--frobnicate"], {
      AUDITQ_MONGODB_URI: "mongodb://127.0.0.1:1/",
    });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr.trim().split("\n")).toEqual([expect.stringMatching(/--frobnicate/)]);
  });

  it("refuses a malformed --since and a missing connection string with exit 2", async () => {
    const since = await runAuditq(["verify", "--since", "yesterday-ish"], {
      AUDITQ_MONGODB_URI: "mongodb://127.0.0.1:1/",
    });
    expect(since.code).toBe(2);
    expect(since.stderr).toMatch(/--since: expected a time/);
    const noUri = await runAuditq(["verify"], { AUDITQ_MONGODB_URI: "" });
    expect(noUri.code).toBe(2);
    expect(noUri.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(/AUDITQ_MONGODB_URI \(--mongodb-uri\) is not set/),
    ]);
  });

  it("says an unreachable MongoDB in one line with exit 2, without the password", async () => {
    const run = await runAuditq(
      [
        "verify",
        `--mongodb-uri=mongodb://auditor:${SECRET}@127.0.0.1:1/?serverSelectionTimeoutMS=500`,
      ],
      {},
    );
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    const lines = run.stderr.trim().split("\n");
    expect(lines).toEqual([expect.stringMatching(/^auditq verify: MongoDB: /)]);
    expect(run.stderr).not.toContain(SECRET);
  });

  it("refuses a public key that is not an Ed25519 PEM with exit 2", async () => {
    const run = await runAuditq(["verify", "--public-key", "/nonexistent/key.pem"], {
      AUDITQ_MONGODB_URI: "mongodb://127.0.0.1:1/",
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--public-key: cannot read the key file \(ENOENT\)/);
  });
});
