// A TCP proxy that can take a service "down" (connection refused) and back up on the same port,
// without restarting the service behind it (ElasticMQ would lose its messages).
import { once } from "node:events";
import { type AddressInfo, connect, createServer, type Server, type Socket } from "node:net";

export interface TcpProxy {
  /** Port the proxy listens on (the same across pause/resume). */
  readonly port: number;
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Connections accepted and held silent by {@link TcpProxy.blackhole} so far. */
  readonly blackholed: number;
  /**
   * Cuts the open connections and holds the next `count` new ones: accepted, read, and never
   * answered or closed (a black-holed route). Later connections are forwarded again.
   */
  blackhole(count?: number): void;
  /** Stops listening and destroys open connections: clients get ECONNREFUSED / ECONNRESET. */
  pause(): Promise<void>;
  /** Listens again on the same port. */
  resume(): Promise<void>;
  /** Stops for good. */
  close(): Promise<void>;
}

/**
 * Starts a proxy on 127.0.0.1 (a free port unless given) forwarding to `target` (`host:port`).
 * `onRequestBytes`, when given, sees every chunk the clients send, as it goes on the wire.
 */
export async function startTcpProxy(
  target: string | URL,
  port = 0,
  onRequestBytes?: (chunk: Buffer) => void,
): Promise<TcpProxy> {
  const url =
    typeof target === "string"
      ? new URL(target.includes("//") ? target : `tcp://${target}`)
      : target;
  const targetHost = url.hostname;
  const targetPort = Number(url.port);
  const sockets = new Set<Socket>();
  let connections = 0;
  let toHold = 0;
  let blackholed = 0;
  let server: Server | undefined;
  let boundPort = port;

  const listen = async () => {
    const s = createServer((client) => {
      connections++;
      if (toHold > 0) {
        toHold--;
        blackholed++;
        sockets.add(client);
        client.on("error", () => sockets.delete(client));
        client.resume(); // read and discard: the request is "sent", no answer ever comes
        return;
      }
      const upstream = connect(targetPort, targetHost);
      sockets.add(client);
      sockets.add(upstream);
      const end = () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on("error", end);
      upstream.on("error", end);
      client.on("close", end);
      upstream.on("close", end);
      if (onRequestBytes) client.on("data", onRequestBytes);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    s.listen(boundPort, "127.0.0.1");
    await once(s, "listening");
    boundPort = (s.address() as AddressInfo).port;
    server = s;
  };

  const stop = async () => {
    const s = server;
    server = undefined;
    if (!s) return;
    const closed = new Promise<void>((resolve, reject) =>
      s.close((err) => (err ? reject(err) : resolve())),
    );
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    await closed;
  };

  await listen();
  return {
    get port() {
      return boundPort;
    },
    get url() {
      return `http://127.0.0.1:${boundPort}`;
    },
    get connections() {
      return connections;
    },
    get blackholed() {
      return blackholed;
    },
    blackhole(count = 1) {
      toHold += count;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    },
    pause: stop,
    async resume() {
      if (!server) await listen();
    },
    close: stop,
  };
}
