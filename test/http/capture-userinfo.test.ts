// A request line in absolute form (`GET http://user:secret@host/path HTTP/1.1`) or a
// protocol-relative one, and Referer and Origin headers with user info: the credentials are
// never stored, in `request.path`, the default `action` or the headers. Sent over a raw socket:
// supertest cannot write such a request line.
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import type { Document } from "bson";
import { EJSON } from "bson";
import { describe, expect, it } from "vitest";
import { expressVersions, harness } from "./harness.js";

const C = "[REDACTED]";

/** Sends `head` as the whole request on a fresh connection; resolves to the status line. */
function sendRaw(port: number, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let reply = "";
    const socket = connect(port, "127.0.0.1", () => socket.write(head));
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      reply += chunk;
    });
    socket.on("end", () => resolve(reply.split("\r\n")[0] as string));
    socket.on("error", reject);
  });
}

describe.each(expressVersions)("user info in recorded URLs on $name", ({ express }) => {
  it("is censored in the path, the action, Referer and Origin", async () => {
    const h = harness();
    const app = express();
    app.use(h.audit);
    app.get("/known", (_req, res) => {
      res.send("ok");
    });
    const server = app.listen(0);
    await new Promise((resolve) => server.once("listening", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const lines = [
        "GET http://user:s3cret-abs@host/nowhere HTTP/1.1",
        "GET //user:s3cret-rel@host/nowhere HTTP/1.1",
      ];
      for (const line of lines) {
        const status = await sendRaw(
          port,
          `${line}\r\nHost: host\r\nReferer: //u:s3cret-ref@shop.example/p\r\n` +
            `Origin: https://o:s3cret-origin@shop.example\r\nConnection: close\r\n\r\n`,
        );
        expect(status).toBe("HTTP/1.1 404 Not Found");
      }
      const records = (await h.records(2)) as Document[];
      for (const record of records) {
        expect(EJSON.stringify(record)).not.toContain("s3cret");
        expect(record.request.headers.referer).toBe(`//${C}@shop.example/p`);
        expect(record.request.headers.origin).toBe(`https://${C}@shop.example`);
      }
      expect(records.map((r) => [r.request.path, r.action])).toEqual([
        [`http://${C}@host/nowhere`, `GET http://${C}@host/nowhere`],
        [`//${C}@host/nowhere`, `GET //${C}@host/nowhere`],
      ]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await h.audit.close();
    }
  });
});
