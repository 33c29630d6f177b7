// The demo's last step: the audit viewer on the records the demo just made, until Ctrl-C.
import { randomBytes, timingSafeEqual } from "node:crypto";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import express from "express";
import { createReader } from "../../sidecar/read/index.js";
import { auditViewer } from "../../sidecar/viewer/index.js";

const COOKIE = "auditq_demo";

/** The demo's session cookie, if the request carries one. */
function cookie(header: string | undefined): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const [name, value] = part.trim().split("=");
    if (name === COOKIE) return value;
  }
  return undefined;
}

/**
 * Serves the viewer on 127.0.0.1 for the records in `database`. Even here it is not open to all:
 * the printed URL carries a one-run key that `/open/<key>` turns into an HttpOnly cookie, which
 * `authorize` checks, so other users of the machine cannot read the demo's trail.
 */
async function serveViewer(
  mongodbUri: string,
  database: string,
): Promise<{ url: string; close(): Promise<void> }> {
  const key = randomBytes(18).toString("base64url");
  const reader = createReader({ mongodbUri, database });
  const app = express();
  app.get("/open/:key", (req, res) => {
    if (req.params.key !== key) {
      res.status(403).send("Wrong key.");
      return;
    }
    res.cookie(COOKIE, key, { httpOnly: true, sameSite: "strict", path: "/" });
    res.redirect(303, "/audit/");
  });
  app.use(
    "/audit",
    auditViewer({
      reader,
      authorize: (req) => {
        const given = Buffer.from(cookie(req.headers.cookie) ?? "");
        const want = Buffer.from(key);
        return given.length === want.length && timingSafeEqual(given, want);
      },
    }),
  );
  const server = app.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/open/${key}`,
    async close() {
      server.close();
      server.closeAllConnections();
      await reader.close();
    },
  };
}

/** The viewer waits for Ctrl-C: only at a terminal, outside CI, and without `--no-viewer`. */
export function viewerWanted(): boolean {
  const why = process.argv.includes("--no-viewer")
    ? "--no-viewer"
    : !process.stdin.isTTY || !process.stdout.isTTY
      ? "not a terminal"
      : process.env.CI
        ? "CI"
        : undefined;
  if (why) console.log(`The audit viewer is not started (${why}).`);
  return why === undefined;
}

/**
 * Serves the viewer, prints its URL, and returns on Ctrl-C (SIGINT) or SIGTERM, for the demo to
 * clean up. The handlers stay: a process with none is ended by tsx on the signal, before its
 * clean-up. One Ctrl-C can arrive twice (from the terminal, and relayed by tsx), so only a
 * second Ctrl-C a second later ends the demo at once.
 */
export async function showViewer(mongoUri: string, database: string): Promise<void> {
  const viewer = await serveViewer(mongoUri, database);
  console.log(`\nThe records, in the audit viewer: ${viewer.url}`);
  console.log("Press Ctrl-C to stop it (the demo database is dropped then).");
  await new Promise<void>((resolve) => {
    let stoppedAt: number | undefined;
    const stop = () => {
      if (stoppedAt === undefined) {
        stoppedAt = Date.now();
        resolve();
      } else if (Date.now() - stoppedAt > 1000) {
        process.exit(130);
      }
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  console.log("Stopping the viewer and cleaning up...");
  await viewer.close();
}
