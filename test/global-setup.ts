// Finds or starts the real services the integration tests talk to, once per test run.
import { execFileSync, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type FauxqsServer, startFauxqs } from "fauxqs";
import type { TestProject } from "vitest/node";

export interface SqsTarget {
  /** "elasticmq", "fauxqs", or "external" for AUDITQ_TEST_SQS_ENDPOINT. */
  name: string;
  endpoint: string;
}

export interface ServicesInfo {
  mongoUri: string;
  sqsTargets: SqsTarget[];
}

declare module "vitest" {
  export interface ProvidedContext {
    services: ServicesInfo;
  }
}

const SERVICES = fileURLToPath(new URL("../scripts/services", import.meta.url));

function runServices(command: string): string {
  return execFileSync(SERVICES, [command], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
}

function parseExports(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const match of text.matchAll(/^export ([A-Z0-9_]+)=(.*)$/gm)) {
    env[match[1] as string] = (match[2] as string).replace(/^['"]|['"]$/g, "");
  }
  return env;
}

export default async function setup(project: TestProject) {
  let stopLocal = false;
  let env: Record<string, string>;
  const external = process.env.AUDITQ_TEST_SQS_ENDPOINT && process.env.AUDITQ_TEST_MONGODB_URI;
  if (external) {
    env = {
      AUDITQ_TEST_SQS_ENDPOINT: process.env.AUDITQ_TEST_SQS_ENDPOINT as string,
      AUDITQ_TEST_MONGODB_URI: process.env.AUDITQ_TEST_MONGODB_URI as string,
    };
  } else {
    // Exit 0 means both already run (left up by `scripts/services up` or CI): reuse them.
    const running = spawnSync(SERVICES, ["status"], { stdio: "ignore" }).status === 0;
    // `up` builds what is missing and explains exactly what is missing when it cannot.
    env = parseExports(runServices("up"));
    stopLocal = !running;
  }
  for (const name of ["AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]) {
    process.env[name] ??= name === "AWS_REGION" ? "us-east-1" : "local";
  }

  const fauxqs: FauxqsServer = await startFauxqs({ port: 0, host: "127.0.0.1", logger: false });
  const sqsTargets: SqsTarget[] = [
    { name: external ? "external" : "elasticmq", endpoint: env.AUDITQ_TEST_SQS_ENDPOINT as string },
    { name: "fauxqs", endpoint: `http://127.0.0.1:${fauxqs.port}` },
  ];
  project.provide("services", {
    mongoUri: env.AUDITQ_TEST_MONGODB_URI as string,
    sqsTargets,
  });

  return async () => {
    await fauxqs.stop();
    if (stopLocal) runServices("down");
  };
}
