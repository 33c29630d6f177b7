// The published package as a user gets it: `npm pack`, installed into a scratch project next to
// Express 4 or Express 5, imported as ESM and as CommonJS from JavaScript, and type-checked from
// TypeScript (ESM and CommonJS resolution). Two install shapes: a web app with the middleware
// only (no mongodb, no pino: optional peer dependencies), and the sidecar with them.
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, createTestQueue, mongoUri, sqsTargets } from "../helpers/services.js";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");

// The app each variant runs: one request through auditq, the record caught by a stub SQS client.
const program = (load: string) => `${load}
const sent = [];
const sqs = new SQSClient({ region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "x" } });
sqs.send = async (command) => {
  const entries = command.input.Entries;
  sent.push(...entries.map((e) => JSON.parse(e.MessageBody).records).flat());
  return { Successful: entries.map((e) => ({ Id: e.Id })), Failed: [] };
};
const audit = auditq({ queueUrl: "http://127.0.0.1:1/0/q", sqs, lingerMs: 0, compression: "none" });
const app = express();
app.use(audit);
app.get("/items/:id", (req, res) => {
  req.audit.set({ via: "pack" });
  res.json({ id: req.params.id });
});
const server = app.listen(0, "127.0.0.1", async () => {
  const res = await fetch("http://127.0.0.1:" + server.address().port + "/items/7");
  await res.text();
  server.close();
  await audit.close();
  process.stdout.write(JSON.stringify({ status: res.status, action: sent[0]?.action, meta: sent[0]?.meta }));
});
`;

const ESM = program(`import { auditq } from "auditq";
import express from "express";
import { SQSClient } from "@aws-sdk/client-sqs";`);

const CJS = program(`const { auditq } = require("auditq");
const express = require("express");
const { SQSClient } = require("@aws-sdk/client-sqs");`);

const TS = (imports: string) => `${imports}

const options: Options = { queueUrl: "http://127.0.0.1:1/0/q", captureBody: true, redact: { paths: ["meta.pin"] } };
const audit: AuditqMiddleware = auditq(options);
const app = express();
app.use(audit);
app.use(audit.captureErrors);
app.post("/orders/:id", (req: Request, res: Response) => {
  req.audit.action("order.update").target("order", req.params.id ?? "").set({ pin: 1 });
  const id: string = req.audit.requestId;
  res.json({ id });
});
const check = (record: AuditRecord): string | null => record.actor.id;
void check;
// @ts-expect-error: not an option
auditq({ queueUrl: "x", nope: 1 });
`;

const TS_ESM =
  TS(`import { auditq, type AuditqMiddleware, type AuditRecord, type Options } from "auditq";
import express, { type Request, type Response } from "express";`);

const TS_CJS =
  TS(`import { auditq, type AuditqMiddleware, type AuditRecord, type Options } from "auditq";
import express = require("express");
type Request = express.Request;
type Response = express.Response;`);

// The viewer from the package on this Express: a missing authorize throws ConfigError, and the
// router answers its API (a page from a stand-in reader, and 400 for an unknown parameter).
const VIEWER_PROBE = (load: string) => `${load}
let refused;
try {
  auditViewer({ reader: {} });
} catch (err) {
  refused = err.constructor.name;
}
const reader = { find: async () => ({ records: [], next: null }), export: () => undefined };
const app = express();
app.use("/audit", auditViewer({ reader, authorize: () => true }));
const server = app.listen(0, "127.0.0.1", async () => {
  const base = "http://127.0.0.1:" + server.address().port + "/audit/api/records";
  const page = await fetch(base);
  const bad = await fetch(base + "?colour=red");
  const out = { refused, page: await page.json(), bad: bad.status, csp: page.headers.get("content-security-policy") };
  server.close();
  process.stdout.write(JSON.stringify(out));
});
`;

let workdir: string;
let tarball: string;

// Builds, packs and installs take minutes on a busy machine: the hooks' deadlines say so.
beforeAll(async () => {
  workdir = await mkdtemp(join(tmpdir(), "auditq-pack-"));
  // `npm pack` builds dist/ first (the `prepare` script).
  await run("npm", ["pack", "--pack-destination", workdir], { cwd: ROOT });
  const [name] = (await readdir(workdir)).filter((f) => f.endsWith(".tgz"));
  tarball = join(workdir, name as string);
}, 300_000);

afterAll(async () => {
  if (workdir) await rm(workdir, { recursive: true, force: true });
});

const MAJORS = [4, 5] as const;
const projects = new Map<number, { dir: string; typecheck: Promise<string> }>();

async function scratchProject(major: number): Promise<string> {
  const dir = join(workdir, `express${major}`);
  await mkdir(dir);
  await writeFile(join(dir, "package.json"), JSON.stringify({ name: "scratch", private: true }));
  await run(
    "npm",
    [
      "install",
      "--prefer-offline",
      "--no-audit",
      "--no-fund",
      tarball,
      `express@${major}`,
      `@types/express@${major}`,
      "prom-client@15",
      "@types/node@20",
    ],
    { cwd: dir },
  );
  await writeFile(join(dir, "esm.mjs"), ESM);
  await writeFile(join(dir, "cjs.cjs"), CJS);
  await writeFile(
    join(dir, "viewer.mjs"),
    VIEWER_PROBE(`import { auditViewer } from "auditq/viewer";
import express from "express";`),
  );
  await writeFile(
    join(dir, "viewer.cjs"),
    VIEWER_PROBE(`const { auditViewer } = require("auditq/viewer");
const express = require("express");`),
  );
  await writeFile(join(dir, "esm.mts"), TS_ESM);
  await writeFile(join(dir, "cjs.cts"), TS_CJS);
  await writeFile(
    join(dir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        module: "nodenext",
        moduleResolution: "nodenext",
        target: "es2022",
        strict: true,
        noEmit: true,
        types: ["node"],
      },
      files: ["esm.mts", "cjs.cts"],
    }),
  );
  return dir;
}

/** tsc's diagnostics for the scratch project; "" when it type-checks. */
async function typecheck(dir: string): Promise<string> {
  try {
    const { stdout } = await run(process.execPath, [TSC, "-p", dir]);
    return stdout;
  } catch (err) {
    const { stdout } = err as { stdout?: string };
    return stdout || String(err);
  }
}

beforeAll(async () => {
  // Both projects install at once, and type-check in the background while the runs go on.
  const dirs = await Promise.all(MAJORS.map(scratchProject));
  MAJORS.forEach((major, i) => {
    const dir = dirs[i] as string;
    projects.set(major, { dir, typecheck: typecheck(dir) });
  });
}, 300_000);

describe.each(MAJORS)("packed tarball with Express %i", (major) => {
  it.each(["esm.mjs", "cjs.cjs"])("runs %s: one request, one record", async (file) => {
    const { dir } = projects.get(major) as { dir: string };
    const { stdout } = await run(process.execPath, [file], { cwd: dir });
    expect(JSON.parse(stdout)).toEqual({
      status: 200,
      action: "GET /items/:id",
      meta: { via: "pack" },
    });
  });

  it.each(["viewer.mjs", "viewer.cjs"])(
    "loads auditq/viewer from %s and serves it",
    async (file) => {
      const { dir } = projects.get(major) as { dir: string };
      const { stdout } = await run(process.execPath, [file], { cwd: dir });
      expect(JSON.parse(stdout)).toEqual({
        refused: "ConfigError",
        page: { records: [], next: null },
        bad: 400,
        csp: expect.stringContaining("script-src 'self'"),
      });
    },
  );

  // tsc runs in the background from beforeAll; on a busy machine it takes a while.
  it("type-checks from TypeScript, ESM and CommonJS", { timeout: 180_000 }, async () => {
    const { typecheck } = projects.get(major) as { typecheck: Promise<string> };
    expect(await typecheck).toBe("");
  });
});

// The app's own copy of the AWS SDK, older than the one auditq is developed with (auditq takes
// it as a peer dependency, so it resolves the app's copy instead of installing its own), and a
// second copy of the MongoDB driver (as mongoose pins its own): clients built from them are used
// as given. With the SDK as a dependency, npm nested auditq's own newer copy, and the app's
// client failed an instanceof check and was rebuilt without its region and endpoint.
const OTHER_SDK = "3.600.0";
const OTHER_DRIVER = "7.0.0";

const FOREIGN_CLIENTS = `import { auditq } from "auditq";
import { createSidecar } from "auditq/sidecar";
import express from "express";
import { SQSClient } from "@aws-sdk/client-sqs";
import { MongoClient } from "mongodb-other";

const { QUEUE_URL, SQS_ENDPOINT, MONGO_URI, DB } = process.env;
const sqs = new SQSClient({
  region: "eu-west-3",
  endpoint: SQS_ENDPOINT,
  credentials: { accessKeyId: "local", secretAccessKey: "local" },
});
// Proof that auditq sent through this very client: its own middleware sees every call.
const calls = [];
sqs.middlewareStack.add(
  (next, context) => async (args) => {
    calls.push(context.commandName + " " + (await sqs.config.region()));
    return next(args);
  },
  { step: "initialize", name: "packSpy" },
);
const audit = auditq({ queueUrl: QUEUE_URL, sqs, lingerMs: 0, spool: false });
const app = express();
app.use(audit);
app.post("/items/:id", (req, res) => res.json({ id: req.params.id }));
const server = app.listen(0, "127.0.0.1");
await new Promise((resolve) => server.once("listening", resolve));
await fetch("http://127.0.0.1:" + server.address().port + "/items/7", { method: "POST" });
server.close();
await audit.close();

const mongo = new MongoClient(MONGO_URI);
await mongo.connect();
const sidecar = createSidecar({ queueUrl: QUEUE_URL, sqs, mongo, database: DB, waitTimeSeconds: 1 });
await sidecar.start();
const records = mongo.db(DB).collection("records");
const deadline = Date.now() + 30_000;
let stored = [];
while (stored.length === 0 && Date.now() < deadline) {
  stored = await records.find({}).toArray();
  if (stored.length === 0) await new Promise((resolve) => setTimeout(resolve, 200));
}
await sidecar.stop();
await mongo.close();
process.stdout.write(JSON.stringify({
  region: await sqs.config.region(),
  calls: [...new Set(calls)].sort(),
  actions: stored.map((r) => r.action),
}));
`;

describe("packed tarball with clients from other copies of the SDK and the driver", () => {
  let dir: string;
  beforeAll(async () => {
    dir = join(workdir, "foreign");
    await mkdir(dir);
    await writeFile(join(dir, "package.json"), JSON.stringify({ name: "scratch", private: true }));
    await run(
      "npm",
      [
        "install",
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
        tarball,
        "express@5",
        "prom-client@15",
        `@aws-sdk/client-sqs@${OTHER_SDK}`,
        // The sidecar's own optional peers, which it loads itself.
        "mongodb@7",
        "pino@10",
        `mongodb-other@npm:mongodb@${OTHER_DRIVER}`,
      ],
      { cwd: dir },
    );
    await writeFile(join(dir, "foreign.mjs"), FOREIGN_CLIENTS);
  }, 300_000);

  it.each(sqsTargets())(
    "uses them as given, region and endpoint intact, on $name",
    async (target) => {
      const queue = await createTestQueue(target);
      const db = await createTestDb();
      try {
        const { stdout } = await run(process.execPath, ["foreign.mjs"], {
          cwd: dir,
          // No endpoint or region from the environment: only the client carries them.
          env: {
            PATH: process.env.PATH,
            AWS_REGION: "us-east-1",
            QUEUE_URL: queue.queueUrl,
            SQS_ENDPOINT: target.endpoint,
            MONGO_URI: mongoUri(),
            DB: db.name,
          },
        });
        const out = JSON.parse(stdout);
        expect(out.region).toBe("eu-west-3");
        expect(out.calls).toContain("SendMessageBatchCommand eu-west-3");
        expect(out.calls).toContain("ReceiveMessageCommand eu-west-3");
        expect(out.actions).toEqual(["POST /items/:id"]);
      } finally {
        await queue.dispose();
        await db.dispose();
      }
    },
  );
});

// What the sidecar scratch project runs, as ESM and as CommonJS: a bad option must throw a
// ConfigError that names it, under its own class name (the CommonJS build keeps class names).
const SIDECAR_PROBE = (load: string) => `${load}
let out;
try {
  createSidecar({ queueUrl: "http://127.0.0.1:1/0/q", mongo: "mongodb://127.0.0.1:1/", bulkSize: 0 });
} catch (err) {
  out = { name: err.constructor.name, option: err.option, middleware: typeof auditq };
}
process.stdout.write(JSON.stringify(out));
`;

// The reader refuses an operator before it connects: its error class survives the build by name.
const READER_PROBE = (load: string) => `${load}
const reader = createReader({ mongodbUri: "mongodb://127.0.0.1:1/" });
reader.find({ actor: { $ne: null } }).catch(async (err) => {
  await reader.close();
  const out = { name: err.constructor.name, field: err.field, isQueryError: err instanceof QueryError };
  process.stdout.write(JSON.stringify(out));
});
`;

describe("install shapes", () => {
  const VERSION = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version as string;

  it("a web app with the middleware only gets neither mongodb nor pino; the sidecar command says what to install", async () => {
    const { dir } = projects.get(5) as { dir: string };
    expect(existsSync(join(dir, "node_modules", "mongodb"))).toBe(false);
    expect(existsSync(join(dir, "node_modules", "pino"))).toBe(false);
    const failed = await run(
      process.execPath,
      [join(dir, "node_modules", ".bin", "auditq-sidecar")],
      {
        cwd: dir,
      },
    ).then(
      () => undefined,
      (err: { code?: number; stderr?: string }) => err,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toContain("npm install mongodb pino");
  });

  it("without mongodb and pino, the sidecar command still prints its help and version", async () => {
    const { dir } = projects.get(5) as { dir: string };
    const bin = join(dir, "node_modules", ".bin", "auditq-sidecar");
    for (const flag of ["--help", "-h"]) {
      const { stdout } = await run(process.execPath, [bin, flag], { cwd: dir });
      expect(stdout, flag).toContain("AUDITQ_MONGODB_URI");
    }
    const { stdout } = await run(process.execPath, [bin, "--version"], { cwd: dir });
    expect(stdout.trim()).toBe(VERSION);
    const queue = await run(process.execPath, [bin, "create-queue", "--help"], { cwd: dir });
    expect(queue.stdout).toContain("--queue-name");
    const auditq = join(dir, "node_modules", ".bin", "auditq");
    const query = await run(process.execPath, [auditq, "query", "--help"], { cwd: dir });
    expect(query.stdout).toContain("--target-type");
  });

  it("the sidecar with mongodb and pino: the command runs, ESM and CommonJS load it and the reader", async () => {
    const dir = join(workdir, "sidecar");
    await mkdir(dir);
    await writeFile(join(dir, "package.json"), JSON.stringify({ name: "scratch", private: true }));
    const install = ["install", "--prefer-offline", "--no-audit", "--no-fund", tarball];
    await run("npm", [...install, "mongodb@7", "pino@10", "prom-client@15"], { cwd: dir });
    const bin = join(dir, "node_modules", ".bin", "auditq-sidecar");
    const { stdout } = await run(process.execPath, [bin, "--version"], { cwd: dir });
    expect(stdout.trim()).toBe(VERSION);
    await writeFile(
      join(dir, "esm.mjs"),
      SIDECAR_PROBE(`import { createSidecar } from "auditq/sidecar";
import { auditq } from "auditq";`),
    );
    await writeFile(
      join(dir, "cjs.cjs"),
      SIDECAR_PROBE(`const { createSidecar } = require("auditq/sidecar");
const { auditq } = require("auditq");`),
    );
    for (const file of ["esm.mjs", "cjs.cjs"]) {
      const probe = await run(process.execPath, [file], { cwd: dir });
      expect(JSON.parse(probe.stdout), file).toEqual({
        name: "ConfigError",
        option: "bulkSize",
        middleware: "function",
      });
    }
    await writeFile(
      join(dir, "reader.mjs"),
      READER_PROBE(`import { createReader, QueryError } from "auditq/reader";`),
    );
    await writeFile(
      join(dir, "reader.cjs"),
      READER_PROBE(`const { createReader, QueryError } = require("auditq/reader");`),
    );
    for (const file of ["reader.mjs", "reader.cjs"]) {
      const probe = await run(process.execPath, [file], { cwd: dir });
      expect(JSON.parse(probe.stdout), file).toEqual({
        name: "QueryError",
        field: "actor",
        isQueryError: true,
      });
    }
  }, 180_000);
});
