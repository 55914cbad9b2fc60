// The in-memory store runs the shared EventStore contract suite, with the
// default limits and with tight ones, in both its layouts.
import { describe, expect, it } from "vitest";
import { defaultLimits, type Limits } from "../../src/limits.js";
import { createMemoryEventStore } from "../../src/store/memory/memory-event-store.js";
import { eventStoreContract } from "../contract/event-store-contract.js";
import { newId, stepStarted, workflowStarted } from "../support/events.js";

eventStoreContract("memory", async () => ({ store: createMemoryEventStore() }));
eventStoreContract("memory, objects layout", async () => ({ store: createMemoryEventStore({ layout: "objects" }) }));

const tight: Limits = { ...defaultLimits, maxNameLength: 40, maxMetadataEntries: 3, maxMetadataSize: 100, maxBatchEvents: 64 };
eventStoreContract("memory, tight limits", async () => ({ store: createMemoryEventStore({ limits: tight }) }), { limits: tight });

describe("memory store, bytes layout: foldOnly loads", () => {
  it("skip decoding metadata and ids (given and assigned), and change nothing else", async () => {
    const store = createMemoryEventStore();
    const runId = "run-fold-only";
    await store.append([
      workflowStarted(runId, {}, { id: newId(), metadata: { traceparent: "00-aa-01" } }),
      stepStarted(runId, {}, { metadata: { traceparent: "00-aa-02" } }),
    ]);
    const full = (await store.load(runId)).events;
    const forFold = (await store.load(runId, { foldOnly: true })).events;
    expect(full.map((e) => e.id).every((id) => id !== "")).toBe(true);
    expect(full.map((e) => Object.keys(e.metadata).length)).toEqual([1, 1]);
    expect(forFold.map((e) => e.id)).toEqual(["", ""]);
    expect(forFold.map((e) => e.metadata)).toEqual([{}, {}]);
    expect(forFold.map((e) => ({ ...e, id: "", metadata: {} }))).toEqual(full.map((e) => ({ ...e, id: "", metadata: {} })));
  });
});

describe("memory store, objects layout: whole-run reads share the run's array, copied on the next write", () => {
  it("hands out one frozen array until the run changes, and what was handed out never changes", async () => {
    const store = createMemoryEventStore({ layout: "objects" });
    const runId = "run-cow";
    await store.append([workflowStarted(runId), stepStarted(runId, {}, { stepName: "a" })]);
    const first = (await store.load(runId)).events;
    expect((await store.load(runId)).events).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(() => (first as unknown[]).push("x")).toThrow(TypeError);

    await store.append([stepStarted(runId, {}, { stepName: "b" })]);
    expect(first.map((e) => e.stepName)).toEqual(["", "a"]);
    const second = (await store.load(runId)).events;
    expect(second).not.toBe(first);
    expect(second.map((e) => e.stepName)).toEqual(["", "a", "b"]);
    // A page that is not the whole run is a copy, as before.
    const page = (await store.load(runId, { afterSequence: 1n })).events;
    expect(page.map((e) => e.stepName)).toEqual(["a", "b"]);
    expect(Object.isFrozen(page)).toBe(false);
  });

  it("the whole log read by readLog is shared the same way", async () => {
    const store = createMemoryEventStore({ layout: "objects" });
    await store.append([workflowStarted("run-log-a"), workflowStarted("run-log-b")]);
    const log = (await store.readLog()).events;
    expect(Object.isFrozen(log)).toBe(true);
    await store.append([stepStarted("run-log-a", {}, { stepName: "s" })]);
    expect(log).toHaveLength(2);
    expect((await store.readLog()).events.map((e) => e.runId)).toEqual(["run-log-a", "run-log-b", "run-log-a"]);
  });
});
