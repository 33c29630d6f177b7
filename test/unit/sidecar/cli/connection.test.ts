import { describe, expect, it } from "vitest";
import { readConnection } from "../../../../sidecar/cli/connection.js";

const env = { AUDITQ_MONGODB_URI: "mongodb://127.0.0.1:27017/" };

describe("the auditq command's connection", () => {
  it("reads the sidecar's variables, flags first", () => {
    expect(readConnection({ ...env, AUDITQ_MAX_WRITE_RATE: "100" }, { database: "d" })).toEqual({
      mongodbUri: "mongodb://127.0.0.1:27017/",
      database: "d",
      collection: "records",
    });
  });

  it("refuses a variable near a setting, as auditq-sidecar does, unless told to allow it", () => {
    expect(() => readConnection({ ...env, AUDITQ_MONGO_URI: "mongodb://x/" }, {})).toThrow(
      "AUDITQ_MONGO_URI is not a setting; did you mean AUDITQ_MONGODB_URI? (or set AUDITQ_ALLOW_UNKNOWN_ENV (--allow-unknown-env)=true to start anyway)",
    );
    const allowed = { ...env, AUDITQ_DATABSE: "x", AUDITQ_ALLOW_UNKNOWN_ENV: "true" };
    expect(readConnection(allowed, {}).database).toBe("auditq");
  });
});
