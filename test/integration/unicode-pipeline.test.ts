// Any text is sendable: arbitrary Unicode (U+0000, U+FFFE, U+FFFF and astral characters
// included) in every captured field reaches MongoDB unchanged, through real SQS servers, with
// compression on (large messages) and off (every body plain JSON text).
import express from "express";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { unescapeKey } from "../../middleware/capture/sanitize.js";
import { auditq } from "../../middleware/index.js";
import type { AuditqError } from "../../shared/util/errors.js";
import { silentLogger } from "../helpers/logger.js";
import { sqsClient, sqsTargets, waitFor } from "../helpers/services.js";
import { useSidecarRig } from "../helpers/sidecar-rig.js";

// Any code point (no lone surrogates: those are not text, and BSON cannot hold them), with the
// ones SQS refuses in raw JSON made frequent.
const text = fc.oneof(
  fc.string({ unit: "binary", maxLength: 24 }),
  fc
    .array(fc.constantFrom("\uFFFE", "\uFFFF", "\u0000", "\u{1F600}", "\u{10FFFF}", "\t", "a"), {
      maxLength: 8,
    })
    .map((chars) => chars.join("")),
);
const nonEmpty = text.filter((s) => s.length > 0 && s !== "." && s !== "..");

const input = fc.record({
  id: nonEmpty,
  q: text,
  action: nonEmpty,
  targetId: text,
  actor: nonEmpty,
  meta: fc.dictionary(text, text, { maxKeys: 3 }),
  body: fc.dictionary(text, text, { maxKeys: 3 }),
});
type Input = typeof input extends fc.Arbitrary<infer T> ? T : never;

/** A stored object with the keys as the app wrote them (capture escapes `$`, `.`, `%`, NUL). */
function unescapedKeys(value: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries((value ?? {}) as Record<string, unknown>)) {
    out[unescapeKey(k)] = v;
  }
  return out;
}

describe.each(sqsTargets())("arbitrary Unicode through the pipeline on $name", (target) => {
  const rig = useSidecarRig(target);

  it.each(["br", "none"] as const)(
    "every captured field arrives unchanged (compression %s)",
    async (compression) => {
      const errors: AuditqError[] = [];
      const audit = auditq({
        queueUrl: rig.queue.queueUrl,
        sqs: sqsClient(target),
        logger: silentLogger,
        onError: (err) => errors.push(err),
        spool: false,
        compression,
        captureBody: true,
        actor: (req) => (req.body as { actor?: string } | undefined)?.actor,
      });
      const app = express();
      app.use(audit);
      app.use(express.json());
      app.post("/items/:id", (req, res) => {
        const { action, targetId, meta } = req.body as Input;
        req.audit.action(action).target("item", targetId).set(meta);
        res.sendStatus(204);
      });
      const server = app.listen(0, "127.0.0.1");
      await new Promise((resolve) => server.once("listening", resolve));
      const { port } = server.address() as { port: number };
      const sent: Input[] = fc.sample(input, { numRuns: 60, seed: 10 });
      // One fixed case first: the request of the report (`?x=%EF%BF%BE`).
      sent.unshift({
        id: "x",
        q: "\uFFFE",
        action: "a",
        targetId: "",
        actor: "u",
        meta: {},
        body: {},
      });
      try {
        for (const [n, s] of sent.entries()) {
          const res = await fetch(
            `http://127.0.0.1:${port}/items/${encodeURIComponent(s.id)}?n=${n}&${new URLSearchParams({ q: s.q })}`,
            {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify(s),
            },
          );
          expect(res.status).toBe(204);
        }
        await audit.close();
      } finally {
        server.close();
      }
      expect(errors.map((e) => `${e.code}: ${e.message}`)).toEqual([]);

      await rig.start();
      const records = rig.mongo.db.collection("records");
      await waitFor(
        "every record in MongoDB",
        () => records.countDocuments(),
        (c) => c >= sent.length,
      );
      const docs = await records.find({}).toArray();
      expect(docs).toHaveLength(sent.length);
      const byN = new Map(docs.map((d) => [Number(d.request.query.n), d]));
      for (const [n, s] of sent.entries()) {
        const doc = byN.get(n);
        const stored = {
          id: doc?.request.params.id,
          q: doc?.request.query.q,
          action: doc?.action,
          targetId: doc?.target?.id,
          actor: doc?.actor?.id,
          meta: unescapedKeys(doc?.meta),
          body: unescapedKeys(doc?.request.body.body),
        };
        expect(stored, `request ${n}`).toEqual({ ...s, meta: s.meta, body: s.body });
      }
    },
    120_000,
  );
});
