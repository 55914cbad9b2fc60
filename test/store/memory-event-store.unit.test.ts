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
