#!/usr/bin/env node
// The auditq-sidecar command's entry: answers --help and --version, then checks that the
// sidecar's own dependencies are installed. They are optional peer dependencies, so a web app
// that only uses the middleware does not get them; it says what to install when they are not,
// and then runs the command (main.ts).
import { createRequire } from "node:module";
import { infoText } from "./help.js";

/** Packages the sidecar needs besides auditq's own dependencies. */
const PEERS = ["@aws-sdk/client-sqs", "mongodb", "pino"] as const;

const info = infoText(process.argv.slice(2));
const require = createRequire(import.meta.url);
const missing = PEERS.filter((name) => {
  try {
    require.resolve(name);
    return false;
  } catch {
    // Not resolvable from here: not installed next to auditq.
    return true;
  }
});
if (info !== undefined) {
  console.log(info);
} else if (missing.length > 0) {
  console.error(
    `auditq-sidecar: ${missing.join(", ")} ${missing.length > 1 ? "are" : "is"} not installed. ` +
      `The sidecar needs them; install them next to auditq:\n\n  npm install ${missing.join(" ")}\n`,
  );
  process.exitCode = 1;
} else {
  await import("./main.js");
}
