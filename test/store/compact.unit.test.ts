import { equals, fromBinary, fromJson, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs, TimestampSchema, ValueSchema } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { compactTimestamp, compactValue, flat } from "../../src/store/compact.js";

describe("compact", () => {
  it("rebuilds a decoded JSON value without changing it", () => {
    const json = { status: "ok", lines: [1, 2.5, { deep: [true, null, "x".repeat(40)] }], empty: {}, none: [] };
    const decoded = fromBinary(ValueSchema, toBinary(ValueSchema, fromJson(ValueSchema, json)));
    const compacted = compactValue(decoded);
    expect(compacted).not.toBe(decoded);
    expect(equals(ValueSchema, compacted, decoded)).toBe(true);
    expect(toBinary(ValueSchema, compacted)).toEqual(toBinary(ValueSchema, decoded));
  });

  it("keeps a message with unknown fields as it is", () => {
    const value = fromJson(ValueSchema, "x");
    value.$unknown = [{ no: 99, wireType: 0, data: new Uint8Array([1]) }];
    expect(compactValue(value)).toBe(value);
  });

  it("rebuilds a timestamp with the same instant", () => {
    const t = timestampFromMs(1_790_000_000_123);
    const c = compactTimestamp(t);
    expect(equals(TimestampSchema, c, t)).toBe(true);
  });

  it("returns the same string, flattened or not", () => {
    const built = ["00", "a".repeat(20), "b".repeat(20), "01"].join("-");
    expect(flat(built)).toBe(built);
    expect(flat("short")).toBe("short");
  });
});
