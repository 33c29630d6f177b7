// audit.record() from work a request's handler starts, Express 4 and 5: the request's actor and
// a link to it (`causedBy`), after the response too, and no context outside a request.
import request from "supertest";
import { afterEach, describe, expect, it } from "vitest";
import { expressVersions, type Harness, harness } from "./harness.js";

describe.each(expressVersions)("audit.record() inside a request on $name", ({ express }) => {
  let h: Harness;
  afterEach(async () => {
    await h.audit.close();
    expect(h.errors).toEqual([]);
  });

  function app(options: Parameters<typeof harness>[0] = {}) {
    h = harness(options);
    const a = express();
    a.use(h.audit);
    // Auth after auditq: the background work still sees the user.
    a.use((req, _res, next) => {
      const user = req.header("x-user");
      if (user) (req as typeof req & { user?: { id: string } }).user = { id: user };
      next();
    });
    a.post("/reports", (_req, res) => {
      res.status(202).send("queued");
      // Work that outlives the response, started by the handler.
      setTimeout(() => {
        h.audit.record({ action: "report.built", target: { type: "report", id: "r1" } });
        h.audit.as("mailer", () => h.audit.record({ action: "report.mailed" }));
      }, 5);
    });
    return a;
  }

  it("takes the request's actor, or as()'s, and links each record to the request", async () => {
    await request(app())
      .post("/reports")
      .set("x-user", "u-1")
      .set("x-request-id", "req-77")
      .expect(202);
    const docs = await h.records(3);
    const req = docs.find((d) => d.source === "http");
    const built = docs.find((d) => d.action === "report.built");
    const mailed = docs.find((d) => d.action === "report.mailed");
    expect(req?.request.requestId).toBe("req-77");
    expect(built).toMatchObject({
      source: "record",
      actor: { id: "u-1" },
      causedBy: { requestId: "req-77" },
    });
    expect(built?.causedBy.id.toHexString()).toBe(req?._id.toHexString());
    expect(mailed?.actor).toEqual({ id: "mailer" });
    expect(mailed?.causedBy.id.toHexString()).toBe(req?._id.toHexString());
    expect(built).not.toHaveProperty("request");
  });

  it("links to the request id alone when the request itself is left out", async () => {
    await request(app({ methods: ["DELETE"] }))
      .post("/reports")
      .set("x-request-id", "req-5")
      .expect(202);
    const docs = await h.records(2);
    expect(docs.every((d) => d.source === "record")).toBe(true);
    expect(docs.map((d) => d.causedBy)).toEqual([{ requestId: "req-5" }, { requestId: "req-5" }]);
  });

  it("gives work started outside any request no context", async () => {
    app();
    await new Promise<void>((resolve) =>
      setTimeout(() => {
        h.audit.record({ action: "tick" });
        resolve();
      }, 1),
    );
    const [doc] = await h.records(1);
    expect(doc?.actor).toEqual({ id: null });
    expect(doc).not.toHaveProperty("causedBy");
  });
});
