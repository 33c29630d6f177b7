// The local services a bench talks to: the ones named by AUDITQ_TEST_SQS_ENDPOINT and
// AUDITQ_TEST_MONGODB_URI when set (as for the tests), else `scripts/services up`.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The services' env lines (endpoints, and AWS_* for ElasticMQ when started here). */
export function services(): Record<string, string> {
  const { AUDITQ_TEST_SQS_ENDPOINT: sqs, AUDITQ_TEST_MONGODB_URI: mongo } = process.env;
  if (sqs && mongo) return { AUDITQ_TEST_SQS_ENDPOINT: sqs, AUDITQ_TEST_MONGODB_URI: mongo };
  const script = fileURLToPath(new URL("../scripts/services", import.meta.url));
  // `up` is a no-op when they already run; a bench never stops them.
  const out = execFileSync(script, ["up"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const env: Record<string, string> = {};
  for (const m of out.matchAll(/^export ([A-Z0-9_]+)=(.*)$/gm))
    env[m[1] as string] = m[2] as string;
  return env;
}
