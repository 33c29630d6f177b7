// When building the full record throws (a bug in auditq), the request still gets a minimal
// record with `captureError`, counted in auditq_records_minimal_total.
import request from "supertest";
import { describe, expect, it, vi } from "vitest";
import { expressVersions, harness } from "./harness.js";

vi.mock("../../middleware/capture/build.js", async (importOriginal) => ({
  ...(await importOriginal<typeof import("../../middleware/capture/build.js")>()),
  buildRecord: () => {
    throw new TypeError("simulated bug in buildRecord");
  },
}));

describe("minimal record", () => {
  it.each(expressVersions)(
    "on $name: stores _id, ts, method, path, status and captureError",
    async ({ express }) => {
      const h = harness();
      const app = express();
      app.use(h.audit);
      app.get("/reset/:token", (_req, res) => {
        res.status(202).send("ok");
      });
      await request(app).get("/reset/s3cr3t-value?password=x").expect(202);
      const [record] = await h.records(1);
      expect(record).toMatchObject({
        v: 2,
        source: "http",
        actor: { id: null },
        action: "GET /reset/[REDACTED]",
        request: { method: "GET", path: "/reset/[REDACTED]", route: null },
        outcome: { status: 202 },
        captureError: "simulated bug in buildRecord",
      });
      expect(record?._id).toBeDefined();
      expect(record?.ts).toBeInstanceOf(Date);
      expect(JSON.stringify(record)).not.toContain("s3cr3t");
      const metrics = await h.audit.registry.metrics();
      expect(metrics).toMatch(/^auditq_records_minimal_total 1$/m);
      expect(metrics).toMatch(/^auditq_records_captured_total\{source="http"\} 1$/m);
      expect(h.errors.map((e) => e.message)).toEqual(["capture failed (build)"]);
      await h.audit.close();
    },
  );
});
