// The sidecar's operations endpoint: /metrics, /healthz (alive) and /readyz (can do its job).
import { createServer, type Server } from "node:http";
import { Counter, type Registry } from "prom-client";

/**
 * The ops server listens on every interface by default: in a container, the kubelet's probes and
 * Prometheus reach it on the pod's address. Set 127.0.0.1 where only the host may scrape it.
 */
export const DEFAULT_METRICS_HOST = "0.0.0.0";

/*
 * Deadlines for the ops server's clients. Node's http.Server defaults, the same in Node 20.19 to
 * 24 (node:http and node:net docs), leave a slow client connected for minutes: `headersTimeout`
 * 60 s and `requestTimeout` 300 s, both checked only every `connectionsCheckingInterval` of
 * 30 s; `keepAliveTimeout` 5 s (65 s in a later major, nodejs/node#62782); `timeout` (socket idle) 0,
 * none; `maxConnections` unset, no cap. About 1,000 clients sending half a header then held as
 * many file descriptors until the process had none left for SQS and MongoDB. The honest clients
 * (probes, Prometheus) send one short GET, its header within milliseconds, so the deadlines are
 * short, and set here rather than left to a Node version.
 */
/** From a connection's start to the end of its request header. */
const HEADERS_TIMEOUT_MS = 5_000;
/** From a connection's start to the end of its request (a GET has no body). */
const REQUEST_TIMEOUT_MS = 10_000;
/** How often Node checks the two deadlines above (its default, 30 s, would add up to 30 s). */
const CHECK_INTERVAL_MS = 1_000;
/** An idle keep-alive connection between two requests (Node 20-24's own default). */
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** A socket with no traffic either way: also a client that reads no response. */
const IDLE_TIMEOUT_MS = 10_000;

/** The longest a client that does not finish its request header stays connected. */
export const SLOW_CLIENT_CLOSED_WITHIN_MS = HEADERS_TIMEOUT_MS + CHECK_INTERVAL_MS;

/** Where the ops server listens, and how many connections it keeps at once. */
export interface OpsListen {
  readonly port: number;
  readonly host: string;
  readonly maxConnections: number;
}

const DROPPED = "auditq_sidecar_ops_connections_dropped_total";

export function startOpsServer(
  registry: Registry,
  isReady: () => boolean,
  { port, host, maxConnections }: OpsListen,
): Promise<Server> {
  const dropped =
    (registry.getSingleMetric(DROPPED) as Counter | undefined) ??
    new Counter({
      name: DROPPED,
      help: "Connections to the ops server closed at once because it held maxConnections",
      registers: [registry],
    });
  const server = createServer(
    {
      headersTimeout: HEADERS_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      connectionsCheckingInterval: CHECK_INTERVAL_MS,
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    },
    (req, res) => {
      const path = (req.url ?? "/").split("?")[0];
      if (path === "/metrics") {
        registry.metrics().then(
          (body) => {
            res.writeHead(200, { "content-type": registry.contentType });
            res.end(body);
          },
          (err: unknown) => {
            res.writeHead(500, { "content-type": "text/plain" });
            res.end(`cannot collect metrics: ${String(err)}\n`);
          },
        );
        return;
      }
      if (path === "/healthz") {
        res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
        return;
      }
      if (path === "/readyz") {
        const ready = isReady();
        res
          .writeHead(ready ? 200 : 503, { "content-type": "text/plain" })
          .end(ready ? "ready\n" : "not ready\n");
        return;
      }
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    },
  );
  // Without a "timeout" listener, Node destroys a socket idle this long.
  server.setTimeout(IDLE_TIMEOUT_MS);
  // Past the cap, Node closes a new connection as soon as it is accepted and emits "drop".
  server.maxConnections = maxConnections;
  server.on("drop", () => dropped.inc());
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}
