// `auditq hold add|list|remove`: the legal holds that retention never deletes records of
// (sidecar/retention/holds.ts). mongodb is imported only when a subcommand runs.
import { userInfo } from "node:os";
import { parseArgs } from "node:util";
import { ConfigError } from "../../../shared/util/errors.js";
import { redactCredentials } from "../../../shared/util/url-credentials.js";
import { createHolds, type Hold, type Holds } from "../../retention/holds.js";
import { CONNECTION_FLAGS, readConnection } from "../connection.js";

const MATCH_FLAGS = {
  actor: "actor",
  "target-type": "targetType",
  "target-id": "targetId",
  tenant: "tenant",
} as const;

export const help = `Usage: auditq hold add --reason TEXT [--actor ID] [--target-type T] [--target-id ID] [--tenant T] [--by NAME]
       auditq hold list [--json]
       auditq hold remove <id>

Legal holds: records that retention (the sidecar's retentionDays) never deletes.
A hold matches a record when every field it names is equal: --actor is actor.id,
--target-type and --target-id are target.type and target.id, --tenant is tenant.
Give at least one. Values are plain strings, never operators.

  --reason TEXT   why (a case or request number); required by add
  --by NAME       who places it (default: the user running the command)
  --json          list as a JSON array

Connection: AUDITQ_MONGODB_URI (--mongodb-uri), AUDITQ_DATABASE (--database),
AUDITQ_COLLECTION (--collection).
Exit codes: 0 ok, 1 no hold by that id (remove), 2 usage or connection error.`;

function parse(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        ...CONNECTION_FLAGS,
        ...Object.fromEntries(
          Object.keys(MATCH_FLAGS).map((f) => [f, { type: "string" as const }]),
        ),
        reason: { type: "string" },
        by: { type: "string" },
        json: { type: "boolean" },
      },
    });
  } catch (err) {
    // parseArgs's own errors (unknown flag, missing value) are usage errors: one line, exit 2.
    throw new ConfigError(err instanceof Error ? (err.message.split("\n")[0] ?? "") : String(err));
  }
}

function currentUser(): string {
  try {
    return userInfo().username || "unknown";
  } catch (err) {
    // No user database entry (a container's arbitrary uid): say so rather than fail the hold.
    return `unknown (${err instanceof Error ? err.message : String(err)})`.slice(0, 200);
  }
}

function describe(hold: Hold): string {
  const match = Object.entries(MATCH_FLAGS)
    .filter(([, key]) => hold[key] !== undefined)
    .map(([flag, key]) => `--${flag} ${JSON.stringify(hold[key])}`)
    .join(" ");
  return `${hold.id}  ${match}  reason ${JSON.stringify(hold.reason)}  by ${JSON.stringify(hold.createdBy)} at ${hold.createdAt.toISOString()}`;
}

async function act(
  holds: Holds,
  action: string,
  rest: readonly string[],
  values: Record<string, unknown>,
): Promise<number> {
  if (action === "add") {
    if (typeof values.reason !== "string") throw new ConfigError("add: --reason is required");
    const match = Object.fromEntries(
      Object.entries(MATCH_FLAGS).map(([flag, key]) => [key, values[flag] as string | undefined]),
    );
    const hold = await holds.add({
      ...match,
      reason: values.reason,
      createdBy: typeof values.by === "string" ? values.by : currentUser(),
    });
    console.log(`added hold ${describe(hold)}`);
    return 0;
  }
  if (action === "list") {
    const all = await holds.list();
    if (values.json === true) console.log(JSON.stringify(all, null, 2));
    else for (const hold of all) console.log(describe(hold));
    return 0;
  }
  const id = rest[0] as string;
  if (await holds.remove(id)) {
    console.log(`removed hold ${id}`);
    return 0;
  }
  console.error(`auditq hold: no hold ${id}`);
  return 1;
}

export async function run(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parse(argv);
  const [action, ...rest] = positionals;
  if (action !== "add" && action !== "list" && action !== "remove") {
    throw new ConfigError(`expected add, list or remove, got ${JSON.stringify(action ?? "")}`);
  }
  if (rest.length !== (action === "remove" ? 1 : 0)) {
    throw new ConfigError(
      action === "remove" ? "remove takes one hold id" : `${action} takes no arguments`,
    );
  }
  const conn = readConnection(env, values);
  const { MongoClient } = await import("mongodb");
  const client = new MongoClient(conn.mongodbUri, { serverSelectionTimeoutMS: 10_000 });
  try {
    try {
      await client.connect();
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new ConfigError(`cannot connect to MongoDB: ${redactCredentials(why)}`);
    }
    const holds = createHolds(client.db(conn.database), { collection: conn.collection });
    return await act(holds, action, rest, values);
  } finally {
    await client.close();
  }
}
