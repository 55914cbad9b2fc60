import { describe, expect, it } from "vitest";
import { createLruCache } from "../../src/reconstruct/lru-cache.js";

describe("createLruCache", () => {
  it("forgets the least recently used entry beyond its capacity", () => {
    const cache = createLruCache<string, number>(2);
    cache.set("a", 1);
    cache.set("b", 2);
    expect(cache.get("a")).toBe(1); // a is now the most recent
    cache.set("c", 3);
    expect(cache.get("b")).toBeUndefined();
    expect([cache.get("a"), cache.get("c"), cache.size]).toEqual([1, 3, 2]);
  });

  it("replaces an entry without growing, and deletes", () => {
    const cache = createLruCache<string, number>(2);
    cache.set("a", 1);
    cache.set("a", 2);
    expect([cache.get("a"), cache.size]).toEqual([2, 1]);
    cache.delete("a");
    expect([cache.get("a"), cache.size]).toEqual([undefined, 0]);
  });

  it("holds nothing with capacity 0", () => {
    const cache = createLruCache<string, number>(0);
    cache.set("a", 1);
    expect([cache.get("a"), cache.size]).toEqual([undefined, 0]);
  });
});
