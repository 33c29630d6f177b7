// The compressed encodings of the envelope, as the batcher writes and the sidecar reads them.
import { ObjectId } from "bson";
import { describe, expect, it } from "vitest";
import { DecodeError } from "../../../../shared/util/errors.js";
import { encodeBody } from "../../../../shared/wire/body-codec.js";
import { decodeMessage } from "../../../../shared/wire/decoder.js";
import { envelopeAttributes, envelopeBody } from "../../../../shared/wire/envelope.js";
import { serializeRecord } from "../../../../shared/wire/record-json.js";

const records = Array.from({ length: 50 }, (_, i) => ({
  _id: new ObjectId(),
  ts: new Date(1_700_000_000_000 + i),
  text: `héllo ✓ 𝄞 ${i}`,
}));
const text = envelopeBody(records.map(serializeRecord));

describe("compressed envelopes", () => {
  it.each(["br", "gzip"] as const)("round-trip through %s and base64", async (encoding) => {
    const body = await encodeBody(text, encoding);
    expect(body).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(body.length).toBeLessThan(text.length);
    const decoded = await decodeMessage({
      Body: body,
      MessageAttributes: envelopeAttributes(encoding),
    });
    expect(decoded).toEqual(records);
  });

  it("rejects a body that does not decompress", async () => {
    await expect(
      decodeMessage({ Body: "bm90IGJyb3RsaQ==", MessageAttributes: envelopeAttributes("br") }),
    ).rejects.toThrow(DecodeError);
  });

  it("rejects an envelope whose record count does not match", async () => {
    const body = text.replace('"n":50', '"n":51');
    await expect(decodeMessage({ Body: body })).rejects.toThrow(/says 51 records but holds 50/);
  });

  it("names the record count in the envelope", () => {
    expect(text.startsWith('{"auditq":1,"n":50,"records":[')).toBe(true);
  });
});
