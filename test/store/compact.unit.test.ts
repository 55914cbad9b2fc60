import { describe, expect, it } from "vitest";
import { flat } from "../../src/store/compact.js";

describe("flat", () => {
  it("returns the same string, flattened or not", () => {
    const built = ["00", "a".repeat(20), "b".repeat(20), "01"].join("-");
    expect(flat(built)).toBe(built);
    expect(flat("short")).toBe("short");
  });
});
