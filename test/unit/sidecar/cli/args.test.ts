import { describe, expect, it } from "vitest";
import { ConfigError } from "../../../../shared/util/errors.js";
import { envName, flagName, helpText, readConfig, SETTINGS } from "../../../../sidecar/cli/args.js";
import { DEFAULTS, resolveOptions } from "../../../../sidecar/config/resolve.js";

const base = {
  AUDITQ_QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/audit",
  AUDITQ_MONGODB_URI: "mongodb://db:27017/",
};

describe("sidecar settings", () => {
  it("derives env and flag from the option name by one rule", () => {
    expect(envName("maxWriteRate")).toBe("AUDITQ_MAX_WRITE_RATE");
    expect(flagName("maxWriteRate")).toBe("--max-write-rate");
  });

  it("fills in defaults from env alone", () => {
    const config = readConfig(base);
    expect(config).toEqual({
      options: { queueUrl: base.AUDITQ_QUEUE_URL, mongo: base.AUDITQ_MONGODB_URI },
      metricsPort: 8466,
      metricsHost: "0.0.0.0",
      metricsMaxConnections: 64,
      logLevel: "info",
      warnings: [],
    });
    expect(resolveOptions(config.options)).toMatchObject({
      database: "auditq",
      maxWriteRate: 0,
      bulkSize: DEFAULTS.bulkSize,
      visibilityTimeoutSeconds: 60,
    });
  });

  it("reads the ops server's bind host and one or two signing secrets", () => {
    const one = "a".repeat(16);
    const two = "b".repeat(16);
    const config = readConfig({ ...base, AUDITQ_SIGNING_SECRET: `${one}, ${two}` }, [
      "--metrics-host=127.0.0.1",
    ]);
    expect(config.metricsHost).toBe("127.0.0.1");
    expect(resolveOptions(config.options).signingSecrets).toEqual([one, two]);
    expect(() => readConfig({ ...base, AUDITQ_SIGNING_SECRET: "short" })).toThrow(
      /AUDITQ_SIGNING_SECRET \(--signing-secret\).*16 characters or more/s,
    );
    expect(() => readConfig({ ...base, AUDITQ_SIGNING_SECRET: "short" })).not.toThrow(/short/);
    expect(() =>
      resolveOptions({
        queueUrl: base.AUDITQ_QUEUE_URL,
        mongo: "mongodb://x",
        signingSecret: [one, two, one],
      }),
    ).toThrow(/one or two strings/);
  });

  it("reads every kind of value from env, and flags win over env", () => {
    const config = readConfig(
      {
        ...base,
        AUDITQ_MAX_WRITE_RATE: "250.5",
        AUDITQ_BULK_SIZE: "100",
        AUDITQ_ADAPTIVE_CONCURRENCY: "false",
        AUDITQ_INDEXES: '[{"actor.id":1}]',
        AUDITQ_WRITE_CONCERN: '{"w":1}',
      },
      ["--max-write-rate", "300", "--pollers=3", "--log-level", "debug"],
    );
    expect(config.options).toMatchObject({
      maxWriteRate: 300,
      bulkSize: 100,
      pollers: 3,
      adaptiveConcurrency: false,
      indexes: [{ "actor.id": 1 }],
      writeConcern: { w: 1 },
    });
    expect(config.logLevel).toBe("debug");
  });

  it("names every missing required setting by env var and flag", () => {
    expect(() => readConfig({})).toThrow(
      /AUDITQ_QUEUE_URL \(--queue-url\) is not set[\s\S]*AUDITQ_MONGODB_URI \(--mongodb-uri\) is not set/,
    );
  });

  it.each([
    [
      "AUDITQ_MAX_WRITE_RATE",
      "fast",
      /AUDITQ_MAX_WRITE_RATE \(--max-write-rate\)="fast" is malformed/,
    ],
    [
      "AUDITQ_MAX_WRITE_RATE",
      "-5",
      /AUDITQ_MAX_WRITE_RATE \(--max-write-rate\): Expected `maxWriteRate`/,
    ],
    ["AUDITQ_BULK_SIZE", "1.5", /AUDITQ_BULK_SIZE \(--bulk-size\)="1.5" is malformed/],
    ["AUDITQ_WAIT_TIME_SECONDS", "21", /AUDITQ_WAIT_TIME_SECONDS.*`waitTimeSeconds`.*0 to 20/],
    ["AUDITQ_ADAPTIVE_CONCURRENCY", "yes", /AUDITQ_ADAPTIVE_CONCURRENCY.*malformed/],
    ["AUDITQ_INDEXES", "[{", /AUDITQ_INDEXES.*malformed/],
    ["AUDITQ_INDEXES", "[1]", /AUDITQ_INDEXES.*`indexes`/],
    ["AUDITQ_METRICS_PORT", "70000", /AUDITQ_METRICS_PORT \(--metrics-port\).*0 to 65535/],
    ["AUDITQ_MONGODB_URI", "postgres://x", /AUDITQ_MONGODB_URI \(--mongodb-uri\).*mongodb:\/\//],
    ["AUDITQ_DATABASE", "a.b", /AUDITQ_DATABASE.*`database`/],
    ["AUDITQ_LOG_LEVEL", "loud", /AUDITQ_LOG_LEVEL \(--log-level\).*one of "trace"/],
  ])("rejects %s=%s by name", (name, value, message) => {
    expect(() => readConfig({ ...base, [name]: value })).toThrow(message);
  });

  it("rejects unknown flags, naming the closest one, and flags without a value", () => {
    expect(() => readConfig(base, ["--max-write-speed=3"])).toThrow(
      /unknown argument "--max-write-speed=3"; did you mean --max-write-rate\?/,
    );
    expect(() => readConfig(base, ["--bulk-size"])).toThrow(/--bulk-size needs a value/);
    expect(() => readConfig(base, ["extra"])).toThrow(/unknown argument "extra"/);
    expect(() => readConfig(base, ["--no-bulk-size"])).toThrow(/unknown argument "--no-bulk-size"/);
  });

  it("takes --x and --no-x for every boolean, and --x=false", () => {
    const flag = (...argv: string[]) => readConfig(base, argv).options.adaptiveConcurrency;
    const env = { ...base, AUDITQ_ADAPTIVE_CONCURRENCY: "false" };
    expect(readConfig(env, ["--adaptive-concurrency"]).options.adaptiveConcurrency).toBe(true);
    expect(flag("--no-adaptive-concurrency")).toBe(false);
    expect(flag("--adaptive-concurrency=false")).toBe(false);
    expect(() => flag("--adaptive-concurrency=maybe")).toThrow(
      /AUDITQ_ADAPTIVE_CONCURRENCY \(--adaptive-concurrency\)="maybe" is malformed: expected a boolean/,
    );
  });

  it.each([
    ["AUDITQ_MAX_WRITE_RATE", "AUDITQ_MAX_WRITE_RAT"],
    ["AUDITQ_MAX_WRITE_RATE", "AUDITQ_MAX_WRITE_RATES"],
    ["AUDITQ_MAX_WRITE_RATE", "AUDITQ_WRITE_RATE"],
    ["AUDITQ_MONGODB_URI", "AUDITQ_MONGO_URI"],
    ["AUDITQ_MONGODB_URI", "AUDITQ_MONGO_URL"],
    ["AUDITQ_QUEUE_URL", "AUDITQ_SQS_QUEUE_URL"],
    ["AUDITQ_LOG_LEVEL", "AUDITQ_LOGLEVEL"],
  ])("refuses to start with a variable near %s (%s), naming it and the opt-out", (near, name) => {
    expect(() => readConfig({ ...base, [name]: "5" })).toThrow(
      `${name} is not a setting; did you mean ${near}? (or set AUDITQ_ALLOW_UNKNOWN_ENV (--allow-unknown-env)=true to start anyway)`,
    );
  });

  it("with AUDITQ_ALLOW_UNKNOWN_ENV=true or --allow-unknown-env, starts and warns instead", () => {
    const env = { ...base, AUDITQ_MAX_WRITE_RAT: "5" };
    const warning =
      "AUDITQ_MAX_WRITE_RAT is not a setting; did you mean AUDITQ_MAX_WRITE_RATE?; ignored (AUDITQ_ALLOW_UNKNOWN_ENV=true)";
    const viaEnv = readConfig({ ...env, AUDITQ_ALLOW_UNKNOWN_ENV: "true" });
    expect(viaEnv.warnings).toEqual([warning]);
    expect(viaEnv.options).not.toHaveProperty("maxWriteRate");
    expect(viaEnv.options).not.toHaveProperty("allowUnknownEnv");
    expect(readConfig(env, ["--allow-unknown-env"]).warnings).toEqual([warning]);
  });

  it("leaves AUDITQ_ variables far from every setting alone (the repository's own tools')", () => {
    const tools = [
      "AUDITQ_TEST_SQS_ENDPOINT",
      "AUDITQ_TEST_MONGODB_URI",
      "AUDITQ_TEST_PROMETHEUS",
      "AUDITQ_SERVICES_DIR",
      "AUDITQ_SERVICES_TIMEOUT",
      "AUDITQ_FERRETDB_PORT",
      "AUDITQ_ELASTICMQ_PORT",
      "AUDITQ_CHROMIUM",
      "AUDITQ_BENCH_OUTAGE_MS",
    ];
    const config = readConfig({ ...base, ...Object.fromEntries(tools.map((t) => [t, "x"])) });
    expect(config.warnings).toEqual([]);
  });

  it("names the option at fault as data, not only in the message", () => {
    try {
      resolveOptions({ queueUrl: base.AUDITQ_QUEUE_URL, mongo: "mongodb://x", bulkSize: 0 });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).option).toBe("bulkSize");
      expect((err as Error).constructor.name).toBe("ConfigError");
    }
  });

  it("lists every setting with its flag, env var and default in --help", () => {
    const help = helpText();
    for (const s of SETTINGS) {
      expect(help).toContain(s.flag);
      expect(help).toContain(s.env);
    }
    expect(help).toContain("--no-adaptive-concurrency");
    expect(help).toMatch(/--max-write-rate[\s\S]*\(default 0\)/);
  });
});

describe("sidecar resolveOptions", () => {
  const ok = { queueUrl: base.AUDITQ_QUEUE_URL, mongo: base.AUDITQ_MONGODB_URI };

  it("treats undefined as not set and never mutates the options", () => {
    const options = Object.freeze({ ...ok, bulkSize: undefined });
    expect(resolveOptions(options).bulkSize).toBe(DEFAULTS.bulkSize);
  });

  it.each([
    [{ pollers: 0 }, /`pollers` to be an integer from 1/],
    [{ maxWriteRate: Number.NaN }, /`maxWriteRate` to be a number/],
    [{ adaptiveConcurrency: "yes" }, /`adaptiveConcurrency` to be a boolean/],
    [{ bulkSizes: 3 }, /Unknown sidecar option `bulkSizes`/],
    [{ queueUrl: "queue" }, /`queueUrl`/],
  ])("rejects %o by option name", (bad, message) => {
    expect(() => resolveOptions({ ...ok, ...bad } as never)).toThrow(message);
  });
});

describe("a malformed MongoDB URI", () => {
  const uri = "mongdb://admin:S3cretPassw0rd@db.example:27017/";

  it("is named in AUDITQ_MONGODB_URI's error without its password", () => {
    const err = (() => {
      try {
        readConfig({ ...base, AUDITQ_MONGODB_URI: uri });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain("AUDITQ_MONGODB_URI");
    expect((err as Error).message).toContain("db.example");
    expect((err as Error).message).not.toContain("S3cretPassw0rd");
  });

  it("is named in the `mongo` option's error without its password", () => {
    expect(() => resolveOptions({ queueUrl: base.AUDITQ_QUEUE_URL, mongo: uri })).toThrow(
      ConfigError,
    );
    expect(() => resolveOptions({ queueUrl: base.AUDITQ_QUEUE_URL, mongo: uri })).not.toThrow(
      /S3cretPassw0rd/,
    );
  });
});
