import { BinaryWriter } from "@bufbuild/protobuf/wire";
import { describe, expect, it } from "vitest";
import { varintSize, writeVarint } from "../../src/codec/varint.js";

describe("varint", () => {
  it("writes what protobuf-es writes, and says how long it is, up to 2^53", () => {
    const values = [0, 1, 127, 128, 16_383, 16_384, 2 ** 21, 2 ** 28 - 1, 2 ** 28, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 35, 2 ** 49 + 3, Number.MAX_SAFE_INTEGER];
    for (const n of values) {
      const expected = new BinaryWriter().uint64(BigInt(n)).finish();
      const into = new Uint8Array(12);
      expect(writeVarint(into, 1, n), `${n}`).toBe(1 + expected.length);
      expect(into.subarray(1, 1 + expected.length)).toEqual(expected);
      expect(varintSize(n), `${n}`).toBe(expected.length);
    }
  });
});
