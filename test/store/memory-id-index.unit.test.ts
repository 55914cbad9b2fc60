// The memory store's ID index: store-assigned UUIDv7s kept sorted and found by
// binary search, client IDs (and an assigned ID out of order) in a Map; and,
// through the store, retries that carry IDs the store assigned.
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { v7 as uuidv7 } from "uuid";
import { EventSchema } from "../../gen/runlog/v1/event_pb.js";
import { EventIdConflictError } from "../../src/errors.js";
import { createIdIndex } from "../../src/store/memory/id-index.js";
import { createMemoryEventStore } from "../../src/store/memory/memory-event-store.js";
import { contextUpdated, stepStarted, workflowStarted } from "../support/events.js";


describe("memory ID index", () => {
  it("finds every assigned ID by binary search and every client ID, and nothing else", () => {
    const index = createIdIndex();
    const assigned = Array.from({ length: 5_000 }, () => uuidv7());
    const given = Array.from({ length: 50 }, (_, i) => `00000000-0000-4000-8000-${i.toString().padStart(12, "0")}`);
    const at = new Map<string, number>();
    for (let i = 0; i < assigned.length; i++) {
      index.add(assigned[i]!, at.size, true);
      at.set(assigned[i]!, at.size);
      if (i % 100 === 0) {
        index.add(given[i / 100]!, at.size, false);
        at.set(given[i / 100]!, at.size);
      }
    }
    expect(index.size).toBe(assigned.length + given.length);
    for (const id of [...assigned, ...given]) expect(index.get(id)).toBe(at.get(id));
    expect(index.get(uuidv7())).toBeUndefined();
    expect(index.get("ffffffff-ffff-7fff-bfff-ffffffffffff")).toBeUndefined();
    expect(index.get("00000000-0000-0000-0000-000000000000")).toBeUndefined();
  });

  it("keeps an assigned ID that is not a lower-case UUID findable (in the Map), and tells IDs apart by every byte", () => {
    const index = createIdIndex();
    const base = "01950000-0000-7000-8000-00000000000";
    for (let i = 0; i < 10; i++) index.add(`${base}${i}`, i, true);
    index.add("not-a-uuid", 10, true);
    index.add("01950000-0000-7000-8000-0000000000AA", 11, true);
    expect(index.size).toBe(12);
    expect(Array.from({ length: 10 }, (_, i) => index.get(`${base}${i}`))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(index.get("not-a-uuid")).toBe(10);
    expect(index.get("01950000-0000-7000-8000-0000000000AA")).toBe(11);
    expect(index.get("01950000-0000-7000-8000-0000000000aa")).toBeUndefined();
    expect(index.get(`${base}a`)).toBeUndefined();
    expect(index.get("01950000-0000-7000-8000-00000000000g")).toBeUndefined();
    expect(index.get("01950000-0000-7000-8000+000000000001")).toBeUndefined();
  });

  it("takes an assigned ID's bytes where the store has them, as it would read them from the text", () => {
    const index = createIdIndex();
    const ids = Array.from({ length: 100 }, () => uuidv7());
    const bytes = new Uint8Array(16 * ids.length);
    ids.forEach((id, i) => bytes.set(Buffer.from(id.replaceAll("-", ""), "hex"), i * 16));
    ids.forEach((id, i) => index.add(id, i, true, bytes, i * 16));
    expect(ids.map((id) => index.get(id))).toEqual(ids.map((_, i) => i));
    expect(index.get(uuidv7())).toBeUndefined();
  });

  it("keeps an assigned ID that sorts before the last one (the clock stepped back) findable", () => {
    const index = createIdIndex();
    const late = "01950000-0000-7000-8000-000000000001";
    const early = "01940000-0000-7000-8000-000000000001";
    const later = "01960000-0000-7000-8000-000000000001";
    index.add(late, 0, true);
    index.add(early, 1, true);
    index.add(later, 2, true);
    expect([late, early, later].map((id) => index.get(id))).toEqual([0, 1, 2]);
    expect(index.size).toBe(3);
  });
});

describe("memory store: retries with the IDs it assigned", () => {
  it("answers an exact resend of stored events as a duplicate, and a reused ID with other content as ALREADY_EXISTS", async () => {
    const store = createMemoryEventStore();
    await store.append([workflowStarted("retry-run")]);
    const first = await store.append([stepStarted("retry-run", {}, { stepName: "a" }), contextUpdated("retry-run", { key: "k" })]);
    expect(first.duplicate).toBe(false);
    const stored = first.stored!;
    const again = await store.append(stored.map((e) => create(EventSchema, { ...e, position: 0n })));
    expect(again.duplicate).toBe(true);
    expect(again.events.map((e) => e.id)).toEqual(stored.map((e) => e.id));
    const reused = create(EventSchema, { ...contextUpdated("retry-run", { key: "other" }), id: stored[0]!.id });
    await expect(store.append([reused])).rejects.toBeInstanceOf(EventIdConflictError);
    expect((await store.load("retry-run")).events).toHaveLength(3);
  });
});
