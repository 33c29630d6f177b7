// Fuzz: random and mutated envelopes against the sidecar process on real services. It stays up,
// stores every good record exactly once, and quarantines every bad message with a reason.
import { gzipSync } from "node:zlib";
import { ObjectId } from "bson";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeBody } from "../../shared/wire/body-codec.js";
import {
  ENVELOPE_ATTRIBUTES,
  envelopeAttributes,
  envelopeBody,
} from "../../shared/wire/envelope.js";
import { serializeRecord } from "../../shared/wire/record-json.js";
import { sendBodies } from "../helpers/queue-records.js";
import { type SqsTarget, sqsTargets, waitFor } from "../helpers/services.js";
import { ops } from "../helpers/sidecar-cli.js";
import { useSidecarRig } from "../helpers/sidecar-rig.js";

const target = sqsTargets()[0] as SqsTarget;
/** Fixed: the same cases on every run, so that a failure can be replayed. */
const SEED = 20261130;
const MESSAGES = 80;
const MAX_RECORDS = 40;

type Attributes = Record<string, { DataType: string; StringValue: string }>;
interface Case {
  body: string;
  attributes: Attributes;
  /** Records that must be stored exactly once. */
  good: ObjectId[];
  /** Records that must be quarantined alone (their message is otherwise good). */
  poison: number;
  /** The message as a whole must be quarantined. */
  bad: boolean;
}

const key = fc.stringMatching(/^[a-z][a-z0-9_]{0,7}$/);
const scalar = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);
const field = fc.oneof(
  scalar,
  fc.dictionary(key, scalar, { maxKeys: 4 }),
  fc.array(scalar, { maxLength: 4 }),
);
const record = fc
  .record({
    fields: fc.dictionary(key, field, { maxKeys: 6 }),
    ts: fc.date({ noInvalidDate: true }),
  })
  .map(({ fields, ts }) => ({ ...fields, _id: new ObjectId(), ts, action: "fuzz" }));

/** Kinds of message, each with what the sidecar must do with it. */
const kind = fc.constantFrom(
  "good",
  "good-br",
  "poisoned",
  "truncated",
  "garbage",
  "bad-version",
  "bad-count",
  "non-object-record",
  "corrupt-gzip",
  "bad-encoding",
  "too-many-records",
);
const spec = fc.record({
  kind,
  records: fc.array(record, { minLength: 1, maxLength: 12 }),
  /** Where a mutation applies, as a fraction of the body (in ten-thousandths). */
  cut: fc.integer({ min: 0, max: 9_999 }),
  noise: fc.string({ minLength: 1, maxLength: 200 }),
});

type Spec = typeof spec extends fc.Arbitrary<infer T> ? T : never;

async function build(s: Spec): Promise<Case> {
  const text = envelopeBody(s.records.map(serializeRecord));
  const ids = s.records.map((r) => r._id);
  const bad = (body: string, attributes: Attributes = ENVELOPE_ATTRIBUTES): Case => ({
    body,
    attributes,
    good: [],
    poison: 0,
    bad: true,
  });
  switch (s.kind) {
    case "good":
      return { body: text, attributes: ENVELOPE_ATTRIBUTES, good: ids, poison: 0, bad: false };
    case "good-br":
      return {
        body: await encodeBody(text, "br"),
        attributes: envelopeAttributes("br"),
        good: ids,
        poison: 0,
        bad: false,
      };
    case "poisoned": {
      // An array `_id` is refused by every MongoDB-compatible server: that record alone fails.
      const poisoned = { ...s.records[0], _id: [1, 2] };
      const body = envelopeBody([poisoned, ...s.records.slice(1)].map(serializeRecord));
      return { body, attributes: ENVELOPE_ATTRIBUTES, good: ids.slice(1), poison: 1, bad: false };
    }
    case "truncated":
      // A proper non-empty prefix of a JSON object is never valid JSON.
      return bad(text.slice(0, 1 + Math.floor(((text.length - 1) * s.cut) / 10_000)));
    case "garbage":
      return bad(`~${s.noise}`);
    case "bad-version":
      return bad(text.replace('{"auditq":1,', '{"auditq":2,'));
    case "bad-count":
      return bad(text.replace(`"n":${s.records.length},`, `"n":${s.records.length + 1},`));
    case "non-object-record":
      return bad(text.replace('"records":[', '"records":[7,'));
    case "corrupt-gzip": {
      const gz = gzipSync(text);
      // Past the 10-byte header, a changed byte fails the inflate, the CRC-32 or the length.
      const at = 10 + Math.floor(((gz.length - 10) * s.cut) / 10_000);
      gz[at] = (gz[at] as number) ^ 0xff;
      return bad(gz.toString("base64"), envelopeAttributes("gzip"));
    }
    case "bad-encoding":
      return bad(text, {
        ...ENVELOPE_ATTRIBUTES,
        "auditq-encoding": { DataType: "String", StringValue: "lz4" },
      });
    case "too-many-records":
      return bad(envelopeBody(Array.from({ length: MAX_RECORDS + 1 }, () => "{}")));
    default:
      throw new Error(`no case for ${s.kind satisfies never}`);
  }
}

describe(`sidecar fuzz (${target.name})`, () => {
  const rig = useSidecarRig(target);

  it(`stays up through ${MESSAGES} random messages, storing good records once and quarantining the rest`, async () => {
    const specs = fc.sample(spec, { seed: SEED, numRuns: MESSAGES });
    const cases = await Promise.all(specs.map(build));
    for (const c of cases)
      await sendBodies(rig.queue.sqs, rig.queue.queueUrl, [c.body], c.attributes);
    const good = cases.flatMap((c) => c.good);
    const badMessages = cases.filter((c) => c.bad).length;
    // sendBodies does not look at per-entry failures: make sure SQS took every message.
    expect(await rig.queue.depth()).toEqual({ visible: MESSAGES, inflight: 0 });
    const poison = cases.reduce((n, c) => n + c.poison, 0);
    // Every kind occurs: the sample exercises each path, not just the common ones.
    expect(new Set(specs.map((s) => s.kind)).size).toBe(11);

    const { cli, port } = await rig.spawn({
      AUDITQ_WAIT_TIME_SECONDS: "1",
      AUDITQ_MAX_RECORDS_PER_MESSAGE: String(MAX_RECORDS),
    });
    const records = rig.mongo.db.collection("records");
    const quarantine = rig.mongo.db.collection("records_quarantine");
    await waitFor(
      "every message settled",
      async () => ({
        records: await records.countDocuments(),
        quarantined: await quarantine.countDocuments(),
        queue: await rig.queue.depth(),
        exit: cli.child.exitCode ?? cli.child.signalCode,
      }),
      (s) =>
        s.exit !== null ||
        (s.records === good.length &&
          s.quarantined === badMessages + poison &&
          s.queue.visible + s.queue.inflight === 0),
      { timeoutMs: 90_000, intervalMs: 250 },
    );
    expect(cli.child.exitCode ?? cli.child.signalCode, cli.output()).toBeNull();
    expect((await ops(port, "/healthz")).status).toBe(200);
    // Exactly once: every good _id present, and nothing else in the collection.
    expect(await records.countDocuments({ _id: { $in: good } })).toBe(good.length);
    expect(await records.countDocuments()).toBe(good.length);
    const entries = await quarantine.find().toArray();
    expect(entries.filter((e) => e.kind === "message")).toHaveLength(badMessages);
    expect(entries.filter((e) => e.kind === "record")).toHaveLength(poison);
    for (const e of entries) expect(String(e.error?.message ?? "")).not.toBe("");
  }, 180_000);
});
