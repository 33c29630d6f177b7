// A stub SQS endpoint for the capture benches (JSON protocol): every SendMessageBatch entry
// succeeds at once, so what a bench measures is the app, not a queue. `onEntries` sees each
// call's entries after the answer is written, so that whatever it does never delays the app.
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { ReceivedMessageLike } from "../shared/wire/decoder.js";

/** An entry of a SendMessageBatch call, as much of it as the benches read. */
export interface StubEntry {
  Id: string;
  MessageBody?: string;
  MessageAttributes?: ReceivedMessageLike["MessageAttributes"];
}

export interface StubSqs {
  url: string;
  /** Entries taken so far. */
  entries(): number;
  close(): void;
}

/** Starts the stub on a free loopback port. */
export async function startStubSqs(onEntries?: (entries: StubEntry[]) => void): Promise<StubSqs> {
  let taken = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as {
        Entries?: StubEntry[];
      };
      const entries = body.Entries ?? [];
      taken += entries.length;
      res.writeHead(200, { "content-type": "application/x-amz-json-1.0" });
      res.end(
        JSON.stringify({
          Successful: entries.map((e, i) => ({ Id: e.Id, MessageId: `m${taken}-${i}` })),
          Failed: [],
        }),
      );
      if (onEntries) setImmediate(() => onEntries(entries));
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, entries: () => taken, close: () => server.close() };
}
