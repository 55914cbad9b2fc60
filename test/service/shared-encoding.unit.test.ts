import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { EventSchema } from "../../gen/runlog/v1/event_pb.js";
import { createSharedEncoder } from "../../src/service/subscription/shared-encoding.js";

const event = (position: bigint, runId = "r") =>
  create(EventSchema, { runId, position, sequence: position, payload: { case: "snapshot", value: {} } });

describe("createSharedEncoder", () => {
  it("encodes an event once and hands the same bytes to every caller", () => {
    const encode = createSharedEncoder(4);
    const e = event(1n);
    const first = encode(e);
    expect(encode(e)).toBe(first);
    expect(Buffer.from(first).equals(Buffer.from(toBinary(EventSchema, e)))).toBe(true);
    expect(fromBinary(EventSchema, first).position).toBe(1n);
  });

  it("never returns another event's bytes when two events share a slot", () => {
    const encode = createSharedEncoder(4);
    const a = event(1n, "a");
    const b = event(5n, "b"); // 5 mod 4 = 1: a's slot
    encode(a);
    expect(fromBinary(EventSchema, encode(b)).runId).toBe("b");
    expect(fromBinary(EventSchema, encode(a)).runId).toBe("a");
  });

  it("keeps a distinct object with the same position apart", () => {
    const encode = createSharedEncoder(4);
    encode(event(2n, "x"));
    expect(fromBinary(EventSchema, encode(event(2n, "y"))).runId).toBe("y");
  });

  it("rejects a ring size that is not a power of two", () => {
    expect(() => createSharedEncoder(10)).toThrow(RangeError);
  });
});
