// The sidecar's operations endpoint: /metrics, /healthz (alive) and /readyz (can do its job).
import { createServer, type Server } from "node:http";
import type { Registry } from "prom-client";

/**
 * The ops server listens on every interface by default: in a container, the kubelet's probes and
 * Prometheus reach it on the pod's address. Set 127.0.0.1 where only the host may scrape it.
 */
export const DEFAULT_METRICS_HOST = "0.0.0.0";

export function startOpsServer(
  port: number,
  registry: Registry,
  isReady: () => boolean,
  host = DEFAULT_METRICS_HOST,
): Promise<Server> {
  const server = createServer((req, res) => {
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
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}
