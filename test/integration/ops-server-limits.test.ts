// The ops server under slow clients: its connection cap and timeouts keep /healthz answering.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { connect, type Socket } from "node:net";
import { Registry } from "prom-client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SLOW_CLIENT_CLOSED_WITHIN_MS, startOpsServer } from "../../sidecar/http.js";
import { metricValue } from "../helpers/metric-value.js";
import { waitFor } from "../helpers/services.js";

/** A low cap, so that twice it stays a small, bounded number of sockets. */
const CAP = 16;
/** Slack for a busy 2-core machine on top of the server's own deadlines. */
const SLACK_MS = 3_000;

interface SlowClient {
  readonly socket: Socket;
  closed: boolean;
  error?: Error;
}

describe("ops server limits", () => {
  let registry: Registry;
  let server: Server;
  let port: number;
  const clients: SlowClient[] = [];

  beforeEach(async () => {
    registry = new Registry();
    server = await startOpsServer(registry, () => true, {
      port: 0,
      host: "127.0.0.1",
      maxConnections: CAP,
    });
    port = (server.address() as AddressInfo).port;
  });

  afterEach(() => {
    for (const client of clients.splice(0)) client.socket.destroy();
    server.close();
    server.closeAllConnections();
  });

  /** A client that sends part of a request header, then nothing; or nothing at all. */
  const openSlow = (partialHeader: boolean) =>
    new Promise<SlowClient>((resolve, reject) => {
      const socket = connect(port, "127.0.0.1");
      const client: SlowClient = { socket, closed: false };
      clients.push(client);
      // Reads whatever comes (a 408), so that the server's end of the connection shows as "close".
      socket.resume();
      socket.once("connect", () => {
        if (partialHeader) socket.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
        resolve(client);
      });
      // Before "connect", a failure of the test; after it, a reset by the server: one way of
      // closing the connection ("close" follows), recorded on the client.
      socket.on("error", (err) => {
        client.error = err;
        reject(err);
      });
      socket.once("close", () => {
        client.closed = true;
      });
    });

  const healthz = async () => {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`, {
        signal: AbortSignal.timeout(1_000),
      });
      return res.status;
    } catch (err) {
      return String(err);
    }
  };

  const closedCount = async () => clients.filter((c) => c.closed).length;

  it("closes connections past its cap at once and slow ones within its header timeout", async () => {
    const started = performance.now();
    await Promise.all(Array.from({ length: 2 * CAP }, (_, i) => openSlow(i % 2 === 0)));

    // The excess is closed at once, not held for a timeout.
    await waitFor("the excess closed", closedCount, (n) => n >= CAP, {
      timeoutMs: SLACK_MS,
      intervalMs: 20,
    });
    // /healthz answers once the slow clients' slots are freed, well within a liveness probe's
    // failureThreshold × periodSeconds (30 s in deploy/kubernetes).
    const status = await waitFor("/healthz to answer", healthz, (s) => s === 200, {
      timeoutMs: SLOW_CLIENT_CLOSED_WITHIN_MS + SLACK_MS,
      intervalMs: 100,
    });
    expect(status).toBe(200);
    // Every slow client is closed by the server, none by this test.
    await waitFor("every slow client closed", closedCount, (n) => n === 2 * CAP, {
      timeoutMs: SLOW_CLIENT_CLOSED_WITHIN_MS + SLACK_MS - (performance.now() - started),
      intervalMs: 50,
    });
    expect(
      metricValue(await registry.metrics(), "auditq_sidecar_ops_connections_dropped_total"),
    ).toBeGreaterThanOrEqual(CAP);
  });
});
