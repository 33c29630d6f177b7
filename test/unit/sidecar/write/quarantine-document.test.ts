import { createHash } from "node:crypto";
import { calculateObjectSize } from "bson";
import { describe, expect, it } from "vitest";
import {
  fullDocument,
  QUARANTINED_MESSAGE_MAX_BYTES,
  type QuarantineEntry,
  reducedDocument,
} from "../../../../sidecar/write/quarantine-document.js";

const NOW = new Date(0);
const sha256 = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex");

function refusedMessage(body: string, over: Partial<QuarantineEntry> = {}): QuarantineEntry {
  return {
    kind: "message",
    messageId: "m-1",
    receiveCount: 1,
    raw: body,
    body,
    attributes: { "auditq-format": "json" },
    error: { message: "message is not signed" },
    ...over,
  };
}

describe("quarantine documents of refused messages, bounded in size", () => {
  it("keeps a small body whole, with its length and digest", () => {
    const doc = fullDocument(refusedMessage('{"a":1}'), NOW);
    expect(doc).toMatchObject({
      _id: "m-1",
      raw: '{"a":1}',
      bodyBytes: 7,
      bodySha256: sha256('{"a":1}'),
      bodyTruncated: false,
    });
  });

  it("keeps a prefix, the length and the SHA-256 of a large body", () => {
    const body = "x".repeat(50 * 1024);
    const doc = fullDocument(refusedMessage(body), NOW);
    expect(doc.raw).toBe("x".repeat(QUARANTINED_MESSAGE_MAX_BYTES));
    expect(doc).toMatchObject({
      bodyBytes: body.length,
      bodySha256: sha256(body),
      bodyTruncated: true,
    });
    expect(calculateObjectSize(doc)).toBeLessThan(QUARANTINED_MESSAGE_MAX_BYTES + 1024);
  });

  it("never splits a character when it cuts", () => {
    const body = "é".repeat(QUARANTINED_MESSAGE_MAX_BYTES); // two bytes each
    const doc = fullDocument(refusedMessage(body), NOW);
    expect(doc.raw).toBe("é".repeat(QUARANTINED_MESSAGE_MAX_BYTES / 2));
    const odd = fullDocument(refusedMessage(`x${body}`), NOW);
    expect(odd.raw).toBe(`x${"é".repeat(QUARANTINED_MESSAGE_MAX_BYTES / 2 - 1)}`);
  });

  it("cuts a binary payload the same way, full or reduced, and long attributes and reasons", () => {
    const payload = new Uint8Array(200 * 1024).fill(7);
    const entry = refusedMessage('{"auditq":2,"n":3}', {
      payload,
      attributes: { "auditq-format": "y".repeat(100_000) },
      error: { message: "z".repeat(100_000) },
    });
    for (const doc of [fullDocument(entry, NOW), reducedDocument(entry, "refused", NOW)]) {
      expect((doc.payload as Uint8Array).byteLength).toBe(QUARANTINED_MESSAGE_MAX_BYTES);
      expect(doc).toMatchObject({
        payloadBytes: payload.byteLength,
        payloadSha256: sha256(payload),
        payloadTruncated: true,
      });
      expect(calculateObjectSize(doc)).toBeLessThan(2 * QUARANTINED_MESSAGE_MAX_BYTES + 8 * 1024);
    }
  });

  it("cuts the body of a reduced refused message at the same bound", () => {
    const body = "q".repeat(1024 * 1024);
    const doc = reducedDocument(refusedMessage(body), "refused", NOW);
    expect(Buffer.from(doc.bodyBase64 as string, "base64").toString()).toBe(
      "q".repeat(QUARANTINED_MESSAGE_MAX_BYTES),
    );
    expect(doc).toMatchObject({
      bodyBytes: body.length,
      bodySha256: sha256(body),
      bodyTruncated: true,
    });
  });

  it("keeps a refused record's text and its message's payload whole in a reduced entry", () => {
    const payload = new Uint8Array(200 * 1024).fill(1);
    const body = "r".repeat(100 * 1024);
    const entry: QuarantineEntry = {
      ...refusedMessage(body, { payload }),
      kind: "record",
      index: 3,
    };
    expect(fullDocument(entry, NOW).raw).toBe(body);
    const reduced = reducedDocument(entry, "refused", NOW);
    expect((reduced.payload as Uint8Array).byteLength).toBe(payload.byteLength);
    expect(reduced).toMatchObject({ _id: "m-1/3", bodyBytes: body.length, bodyTruncated: false });
  });
});
