// `auditq verify`: checks that the stored audit trail is complete and unaltered, against the
// digests the sidecar wrote (docs/proof.md). Exit 0 ok, 1 something unexplained, 2 usage or
// connection error.
import { parseArgs } from "node:util";
import { MongoClient } from "mongodb";
import { ConfigError } from "../../../shared/util/errors.js";
import { redactCredentials } from "../../../shared/util/url-credentials.js";
import { formatReport } from "../../verify/format.js";
import { loadPublicKey } from "../../verify/keys.js";
import { type IdRange, idInRange, mongoSources } from "../../verify/mongo-sources.js";
import { verifyTrail } from "../../verify/verify.js";
import { CONNECTION_FLAGS, readConnection } from "../connection.js";
import { progressBar } from "./progress.js";

/** How long to look for a MongoDB server before saying it is unreachable. */
const CONNECT_TIMEOUT_MS = 10_000;

const HELP = `Usage: auditq verify [--since TIME] [--until TIME] [--json] [--strict] [--public-key PEM]

Checks the records against the digests the sidecar stored: reports gaps in each producer
stream (with the producer's stated reason, or unexplained), streams without an end mark, and
records altered, deleted, or accounted for by no digest.

  --since TIME       only records from TIME (ISO 8601, e.g. 2026-12-01T00:00:00Z)
  --until TIME       only records up to TIME
  --json             print one JSON object: {ok, records, streams, gaps, unclosed, altered,
                     deleted, unaccounted, ...}
  --strict           also report records without sequence numbers (older producers) that no
                     digest accounts for
  --public-key PEM   Ed25519 public key (PEM text or file) of the sidecar's digestSigningKey:
                     every digest must carry a valid signature
  --mongodb-uri, --database, --collection   or AUDITQ_MONGODB_URI, AUDITQ_DATABASE,
                     AUDITQ_COLLECTION

Exit status: 0 nothing unexplained, 1 something unexplained found, 2 usage or connection error.`;

function time(value: string | undefined, flag: string): Date | undefined {
  if (value === undefined) return undefined;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw new ConfigError(`${flag}: expected a time such as 2026-12-01T00:00:00Z`);
  }
  return date;
}

/** `read()`, with a ConfigError's lines joined into one (the command says one line). */
function oneLine<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new ConfigError(err.message.replace(/:?\n\s*/g, ": ").replace(/: : /g, ": "));
  }
}

function parse(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      options: {
        ...CONNECTION_FLAGS,
        since: { type: "string" },
        until: { type: "string" },
        json: { type: "boolean" },
        strict: { type: "boolean" },
        "public-key": { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    // parseArgs says which flag is unknown or lacks its value.
    throw new ConfigError(`${(err as Error).message}; see auditq verify --help`);
  }
}

/** The subcommand, as sidecar/cli/auditq.ts loads it (its `Subcommand`, by shape). */
const verify = {
  help: HELP,
  async run(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
    const flags = parse(argv);
    const connection = oneLine(() => readConnection(env, flags));
    const range: IdRange = {
      since: time(flags.since, "--since"),
      until: time(flags.until, "--until"),
    };
    const publicKey =
      flags["public-key"] === undefined
        ? undefined
        : loadPublicKey(flags["public-key"], "--public-key");
    // A timeout the connection string sets wins over ours.
    const timeout = /[?&]serverSelectionTimeoutMS=/i.test(connection.mongodbUri)
      ? {}
      : { serverSelectionTimeoutMS: CONNECT_TIMEOUT_MS };
    const client = new MongoClient(connection.mongodbUri, { ...timeout, appName: "auditq verify" });
    const progress = progressBar(process.stderr);
    try {
      const db = client.db(connection.database);
      await db.command({ ping: 1 });
      progress.total(await db.collection(connection.collection).estimatedDocumentCount());
      const report = await verifyTrail(mongoSources(db, connection.collection, range), {
        publicKey,
        strict: flags.strict ?? false,
        openStart: range.since !== undefined,
        openEnd: range.until !== undefined,
        inRange: range.since || range.until ? idInRange(range) : undefined,
        onProgress: (n) => progress.update(n),
      });
      progress.done();
      console.log(flags.json ? JSON.stringify(report) : formatReport(report));
      return report.ok ? 0 : 1;
    } catch (err) {
      progress.done();
      // A MongoDB error (unreachable, refused, timed out): exit 2; never the URI's credentials.
      const message = err instanceof Error ? err.message : String(err);
      console.error(`auditq verify: MongoDB: ${redactCredentials(message).split("\n")[0]}`);
      return 2;
    } finally {
      await client.close();
    }
  },
};

export default verify;
