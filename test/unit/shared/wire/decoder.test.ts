import { ObjectId } from "bson";
import { describe, expect, it } from "vitest";
import { decodeMessage } from "../../../../shared/wire/decoder.js";
import { withDeterministicIds } from "../../../../sidecar/receive/record-id.js";

const decode = async (messageId: string, body: string) =>
  withDeterministicIds(await decodeMessage({ Body: body }), messageId);

describe("plain single-record bodies (other producers)", () => {
  it("keeps the record's own _id", async () => {
    const id = new ObjectId();
    const [doc] = await decode("m-1", JSON.stringify({ _id: { $oid: id.toHexString() }, a: 1 }));
    expect(String(doc?._id)).toBe(id.toHexString());
  });

  it("derives the same _id from the same MessageId on every delivery, and another for another", async () => {
    const body = JSON.stringify({ action: "x", ts: "2026-01-01T00:00:00Z" });
    const [a] = await decode("m-1", body);
    const [again] = await decode("m-1", body);
    const [b] = await decode("m-2", body);
    expect(a?._id).toBeInstanceOf(ObjectId);
    expect(String(again?._id)).toBe(String(a?._id));
    expect(String(b?._id)).not.toBe(String(a?._id));
    expect(a?.action).toBe("x");
  });
});
