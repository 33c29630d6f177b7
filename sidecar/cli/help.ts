// The command's answers that run nothing: --help, -h, --version and create-queue --help.
// Loaded before the dependency check, so it must not need mongodb or pino (cli.ts).
import { existsSync, readFileSync } from "node:fs";
import { helpText } from "./args.js";
import { CREATE_QUEUE_HELP } from "./create-queue.js";

/**
 * The package's version, from its package.json: one level above the built dist/ files, two above
 * this source file (run from source by tsx).
 */
export function packageVersion(): string {
  const url = [
    new URL("../package.json", import.meta.url),
    new URL("../../package.json", import.meta.url),
  ].find((candidate) => existsSync(candidate));
  if (!url) throw new Error("auditq's package.json was not found above the sidecar command");
  return String(JSON.parse(readFileSync(url, "utf8")).version);
}

/** What to print for `argv` when it asks for help or the version; undefined when it does not. */
export function infoText(argv: readonly string[]): string | undefined {
  const asksHelp = (args: readonly string[]) => args.includes("--help") || args.includes("-h");
  if (argv[0] === "create-queue") return asksHelp(argv.slice(1)) ? CREATE_QUEUE_HELP : undefined;
  if (asksHelp(argv)) {
    return `${helpText()}\n\nauditq-sidecar create-queue --help: create the queue and its dead-letter queue.`;
  }
  if (argv.includes("--version")) return packageVersion();
  return undefined;
}
