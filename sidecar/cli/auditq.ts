#!/usr/bin/env node
// The `auditq` command: reads and maintains a stored audit trail (docs/design/schema-and-bins.md).
// One module per subcommand under commands/, loaded only when run, so --help and --version
// work without mongodb installed. Exit codes: 0 ok, 1 the subcommand found a problem, 2 usage
// or connection error.
import { ConfigError } from "../../shared/util/errors.js";
import { redactCredentials } from "../../shared/util/url-credentials.js";
import { packageVersion } from "./help.js";
import { startupConfigError } from "./startup-error.js";

/** What a subcommand module exports. */
export interface Subcommand {
  /** Its --help text. */
  readonly help: string;
  /** Runs it; resolves to the exit code. Throws ConfigError for usage errors (exit 2). */
  run(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number>;
}

/** Subcommands: name → one-line summary and loader. Each feature adds its row. */
const COMMANDS: Record<string, { summary: string; load: () => Promise<Subcommand> }> = {
  query: {
    summary: "print the records matching filters",
    load: () => import("./commands/query.js"),
  },
  hold: {
    summary: "add, list or remove legal holds (retention)",
    load: () => import("./commands/hold.js"),
  },
  verify: {
    summary: "check that the stored trail is complete and unaltered (docs/proof.md)",
    load: async () => (await import("./commands/verify.js")).default,
  },
};

function usage(): string {
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return [
    "Usage: auditq <command> [--flag value ...]",
    "",
    "Reads and maintains an auditq audit trail in MongoDB.",
    "",
    "Commands:",
    ...(rows.length > 0 ? rows : ["  (none in this version)"]),
    "",
    "Every command reads its connection like auditq-sidecar: AUDITQ_MONGODB_URI (--mongodb-uri),",
    "AUDITQ_DATABASE (--database), AUDITQ_COLLECTION (--collection).",
    "auditq <command> --help: that command's flags.",
  ].join("\n");
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === "--version") {
    console.log(packageVersion());
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`auditq: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    return 2;
  }
  const sub = await command.load();
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(sub.help);
    return 0;
  }
  try {
    return await sub.run(rest, process.env);
  } catch (err) {
    // A connection string the driver refuses is a usage error too, named by its setting.
    const problem = startupConfigError(err) ?? err;
    const message = problem instanceof Error ? problem.message : String(problem);
    console.error(`auditq ${name}: ${redactCredentials(message)}`);
    return problem instanceof ConfigError ? 2 : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
