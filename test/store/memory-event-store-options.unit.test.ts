// What the in-memory store promises beyond the contract: its options, the page
// cap, and a change feed that runs synchronously inside append().
import { describe, expect, it, vi } from "vitest";
import { LimitExceededError, UnavailableError } from "../../src/errors.js";
import { defaultLimits } from "../../src/limits.js";
import { createMemoryEventStore } from "../../src/store/memory/memory-event-store.js";
import { createMemorySnapshotStore } from "../../src/store/memory/memory-snapshot-store.js";
import { stepStarted, workflowStarted } from "../support/events.js";

const runEvents = (runId: string, n: number) => Array.from({ length: n }, () => stepStarted(runId));

describe("memory event store", () => {
  it("refuses, storing nothing, an append whose client-given IDs pass maxClientIds (a Map holds 2^24)", async () => {
    const store = createMemoryEventStore({ maxClientIds: 3 });
    const withId = (runId: string, n: number) =>
      runEvents(runId, n).map((e, i) => ({ ...e, id: `00000000-0000-4000-8000-${runId.padStart(6, "0")}${String(i).padStart(6, "0")}` }));
    const first = withId("a", 2);
    await store.append(first);
    const refused = store.append(withId("b", 2));
    await expect(refused).rejects.toBeInstanceOf(LimitExceededError);
    await expect(refused).rejects.toMatchObject({ limit: "memory_client_event_ids", value: 4n, max: 3n });
    expect(await store.headPosition()).toBe(2n);
    expect(await store.getLastSequence("b")).toBe(0n);
    // Store-assigned IDs do not count; a retry of stored events adds none; one more client ID fits.
    await store.append(runEvents("c", 5));
    expect((await store.append(first)).duplicate).toBe(true);
    await store.append(withId("d", 1));
    await expect(store.append(withId("e", 1))).rejects.toMatchObject({ limit: "memory_client_event_ids", value: 4n, max: 3n });
    expect(await store.headPosition()).toBe(8n);
    expect(() => createMemoryEventStore({ maxClientIds: 2 ** 24 + 1 })).toThrow(RangeError);
    expect(() => createMemoryEventStore({ maxClientIds: -1 })).toThrow(RangeError);
  });

  it("caps Load and ReadLog pages at maxPageEvents", async () => {
    const store = createMemoryEventStore({ limits: { ...defaultLimits, maxPageEvents: 3 } });
    await store.append(runEvents("r", 5));
    for (const limit of [undefined, 0, 10]) {
      const load = await store.load("r", { limit });
      expect(load.events).toHaveLength(3);
      expect(load).toMatchObject({ nextAfterSequence: 3n, hasMore: true });
      const log = await store.readLog({ limit });
      expect(log.events).toHaveLength(3);
      expect(log).toMatchObject({ nextAfterPosition: 3n, hasMore: true, headPosition: 5n });
    }
    expect((await store.load("r", { limit: 2 })).events).toHaveLength(2);
  });

  it("rejects a fractional limit", async () => {
    const store = createMemoryEventStore();
    await expect(store.load("r", { limit: 1.5 })).rejects.toMatchObject({ field: "limit" });
    await expect(store.listRuns({ pageSize: 2.5 })).rejects.toMatchObject({ field: "page_size" });
  });

  it("lists 100 runs per page by default, at most maxPageEvents", async () => {
    const store = createMemoryEventStore();
    for (let i = 0; i < 150; i++) await store.append([workflowStarted(`run-${String(i).padStart(3, "0")}`)]);
    const first = await store.listRuns();
    expect(first.runs).toHaveLength(100);
    const second = await store.listRuns({ pageToken: first.nextPageToken });
    expect(second.runs).toHaveLength(50);
    expect(second.runs[0]!.runId).toBe("run-100");
    expect(second.nextPageToken).toBe("");
    const capped = createMemoryEventStore({ limits: { ...defaultLimits, maxPageEvents: 7 } });
    for (let i = 0; i < 10; i++) await capped.append([workflowStarted(`run-${i}`)]);
    expect((await capped.listRuns()).runs).toHaveLength(7);
    expect((await capped.listRuns({ pageSize: 1000 })).runs).toHaveLength(7);
  });

  it("calls listeners synchronously, before append() resolves, with the stored events", async () => {
    const store = createMemoryEventStore();
    const seen: bigint[] = [];
    store.onAppend((events) => seen.push(...events.map((e) => e.position)));
    const pending = store.append(runEvents("r", 2));
    expect(seen).toEqual([1n, 2n]);
    await pending;
    const { events } = await store.load("r");
    expect(events[0]!.position).toBe(1n);
  });

  it("reports a throwing listener to onListenerError and goes on", async () => {
    const onListenerError = vi.fn(() => {
      throw new Error("the hook fails too");
    });
    const store = createMemoryEventStore({ onListenerError });
    const bug = new Error("listener bug");
    store.onAppend(() => {
      throw bug;
    });
    const after = vi.fn();
    store.onAppend(after);
    await store.append(runEvents("r", 1));
    expect(onListenerError).toHaveBeenCalledWith(bug);
    expect(after).toHaveBeenCalledTimes(1);
  });

  it("a listener added while listeners run sees only later batches", async () => {
    const store = createMemoryEventStore();
    const late = vi.fn();
    let added = false;
    store.onAppend(() => {
      if (!added) store.onAppend(late);
      added = true;
    });
    await store.append(runEvents("r", 1));
    expect(late).not.toHaveBeenCalled();
    await store.append(runEvents("r", 1));
    expect(late).toHaveBeenCalledTimes(1);
  });

  it("uses the snapshot store it is given", async () => {
    const snapshots = createMemorySnapshotStore();
    const store = createMemoryEventStore({ snapshots });
    await store.snapshots.save({ runId: "r", sequence: 1n, reducerVersion: 1, state: new Uint8Array([1]) });
    expect(await snapshots.latest("r", 1n, 1)).toMatchObject({ sequence: 1n });
  });

  it("refuses new listeners after close and drops the old ones", async () => {
    const store = createMemoryEventStore();
    const listener = vi.fn();
    store.onAppend(listener);
    await store.close();
    expect(() => store.onAppend(vi.fn())).toThrow(UnavailableError);
    expect(listener).not.toHaveBeenCalled();
  });

  it("a huge afterSequence or afterPosition is simply past the end", async () => {
    const store = createMemoryEventStore();
    await store.append(runEvents("r", 2));
    const huge = 2n ** 63n - 1n;
    expect(await store.load("r", { afterSequence: huge })).toEqual({ events: [], nextAfterSequence: huge, hasMore: false });
    expect((await store.readLog({ afterPosition: 2n ** 64n - 1n })).events).toEqual([]);
  });

  it("checks envelopes again unless told they were checked against its own limits", async () => {
    const limits = { ...defaultLimits };
    const store = createMemoryEventStore({ limits });
    const emptyKey = () => stepStarted("r", {}, { metadata: { "": "x" } });
    // Any other limits object, even an equal one, is not the store's: it checks.
    await expect(store.append([emptyKey()], { validated: { ...limits } })).rejects.toMatchObject({ field: "event.metadata" });
    await expect(store.append([emptyKey()])).rejects.toMatchObject({ field: "event.metadata" });
    expect(await store.headPosition()).toBe(0n);
    // Its own limits: the caller (the service's appender) checked them; the store trusts it.
    await store.append([emptyKey()], { validated: limits });
    expect(await store.headPosition()).toBe(1n);
  });
});
