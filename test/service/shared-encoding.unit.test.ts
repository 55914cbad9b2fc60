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

  it("shares the bytes of one position across distinct objects: a position names one stored event", () => {
    const encode = createSharedEncoder(4);
    const first = encode(event(2n, "x"));
    // The same stored event delivered as another object (a store's change feed may decode it again).
    expect(encode(event(2n, "x"))).toBe(first);
  });

  it("encodes an event without a position each time, and caches nothing for it", () => {
    const encode = createSharedEncoder(4);
    const a = encode(event(0n, "a"));
    const b = encode(event(0n, "b"));
    expect(b).not.toBe(a);
    expect(fromBinary(EventSchema, b).runId).toBe("b");
    // Slot 0 stays free for position 4.
    expect(fromBinary(EventSchema, encode(event(4n, "c"))).runId).toBe("c");
  });

  it("tells positions apart beyond 2^53", () => {
    const encode = createSharedEncoder(4);
    const big = 1n << 60n;
    encode(event(big, "a"));
    expect(fromBinary(EventSchema, encode(event(big + 4n, "b"))).runId).toBe("b");
    expect(fromBinary(EventSchema, encode(event(big, "a"))).runId).toBe("a");
  });

  it("rejects a ring size that is not a power of two", () => {
    expect(() => createSharedEncoder(10)).toThrow(RangeError);
  });
});
