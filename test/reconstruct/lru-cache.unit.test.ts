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

  it("stays within its capacity and keeps an entry that is used while others come and go", () => {
    const cache = createLruCache<number, number>(100);
    cache.set(-1, -1);
    for (let i = 0; i < 10_000; i++) {
      cache.set(i, i);
      if (i % 10 === 0) expect(cache.get(-1)).toBe(-1);
      expect(cache.size).toBeLessThanOrEqual(100);
    }
    expect(cache.get(9_999)).toBe(9_999);
    expect(cache.get(0)).toBeUndefined();
  });
});
