// The subscription's parts in isolation: the bounded live buffer and the batch framing.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { EventType, type Event } from "../../gen/runlog/v1/event_pb.js";
import { EventBatchSchema, LoadResponseSchema, SubscribeResponseSchema } from "../../gen/runlog/v1/event_store_pb.js";
import { pageResponse, storedPage } from "../../src/service/page-bytes.js";
import { eventBatches, liveBatch, storedBatches } from "../../src/service/subscription/batches.js";
import { createSharedEncoder, encodeEvent } from "../../src/service/subscription/shared-encoding.js";
import { createLiveFeed } from "../../src/service/subscription/live-feed.js";
import { createMemoryEventStore } from "../../src/store/memory/memory-event-store.js";
import { customEvent, stepStarted, workflowStarted } from "../support/events.js";

async function storeWith(events: Event[]) {
  const store = createMemoryEventStore();
  if (events.length > 0) await store.append(events);
  return store;
}

describe("live feed", () => {
  it("buffers in-scope, accepted events; takes them oldest first, splitting chunks", async () => {
    const store = await storeWith([]);
    const feed = createLiveFeed({
      store,
      capacity: 100,
      inScope: (e) => e.runId === "a",
      coordinate: (e) => e.sequence,
      accept: (e) => e.type !== EventType.STEP_STARTED,
      signal: new AbortController().signal,
    });
    feed.attach();
    await store.append([workflowStarted("a"), customEvent("a"), customEvent("a"), workflowStarted("b")]);
    await store.append([stepStarted("a", {}, { stepName: "s" }), customEvent("a")]);
    expect(feed.size).toBe(4);
    expect(feed.highWater).toBe(5n); // the step.started was seen, not kept
    expect(feed.take(2).map((e) => e.sequence)).toEqual([1n, 2n]);
    expect(feed.take(10).map((e) => e.sequence)).toEqual([3n, 5n]);
    expect(feed.take(10)).toEqual([]);
    feed.detach();
    await store.append([customEvent("a")]);
    expect(feed.size).toBe(0);
  });

  const anyEvent = { inScope: () => true, coordinate: (e: Event) => e.position, accept: undefined };

  it("joins appends that waited together into one take (a subscriber behind catches up in few messages)", async () => {
    const store = await storeWith([]);
    const feed = createLiveFeed({ store, capacity: 100, ...anyEvent, signal: new AbortController().signal });
    feed.attach();
    for (let i = 0; i < 5; i++) await store.append([customEvent(`r${i}`)]);
    await store.append([customEvent("r5"), customEvent("r5")]);
    expect(feed.size).toBe(7);
    expect(feed.take(4).map((e) => e.position)).toEqual([1n, 2n, 3n, 4n]);
    expect(feed.take(100).map((e) => e.position)).toEqual([5n, 6n, 7n]);
    // One chunk alone, or one that the next would push over the limit, is handed over whole.
    await store.append([customEvent("a"), customEvent("a")]);
    await store.append([customEvent("b"), customEvent("b")]);
    const whole = feed.take(3);
    expect(whole.map((e) => e.position)).toEqual([8n, 9n]);
    expect(feed.take(3).map((e) => e.position)).toEqual([10n, 11n]);
    expect(feed.size).toBe(0);
    feed.detach();
  });

  it("overflows: drops everything, detaches, wakes the waiter", async () => {
    const store = await storeWith([]);
    const feed = createLiveFeed({ store, capacity: 3, ...anyEvent, signal: new AbortController().signal });
    feed.attach();
    const waiting = feed.wait(10_000);
    await store.append([customEvent("r"), customEvent("r")]);
    await waiting;
    await store.append([customEvent("r"), customEvent("r")]);
    expect(feed.overflowed).toBe(true);
    expect(feed.attached).toBe(false);
    expect(feed.size).toBe(0);
    await feed.wait(10_000); // resolves at once while overflowed
    feed.attach();
    expect(feed.overflowed).toBe(false);
    await store.append([customEvent("r")]);
    expect(feed.take(10).map((e) => e.position)).toEqual([5n]);
  });

  it("wait ends on timeout and on abort", async () => {
    const controller = new AbortController();
    const feed = createLiveFeed({ store: await storeWith([]), capacity: 3, ...anyEvent, signal: controller.signal });
    feed.attach();
    const started = Date.now();
    await feed.wait(20);
    expect(Date.now() - started).toBeGreaterThanOrEqual(15);
    const waiting = feed.wait(10_000);
    controller.abort();
    await waiting;
    await feed.wait(10_000); // resolves at once once aborted
  });

  it("one timer serves every wait: it is re-armed for each, and a wait woken early is not ended by it later", async () => {
    const store = await storeWith([]);
    const feed = createLiveFeed({ store, capacity: 10, ...anyEvent, signal: new AbortController().signal });
    feed.attach();
    for (let i = 0; i < 3; i++) {
      // Woken by an append, well before its timeout; the timer stays armed.
      const woken = feed.wait(10_000);
      await store.append([customEvent("r")]);
      await woken;
      expect(feed.take(10)).toHaveLength(1);
    }
    // A wait with the same and with another timeout each end on their own timer.
    await feed.wait(10);
    await feed.wait(10);
    await feed.wait(5);
    // A wait that was replaced by a later one ends rather than hang.
    const replaced = feed.wait(10_000);
    const later = feed.wait(10_000);
    await replaced;
    await store.append([customEvent("r")]);
    await later;
    feed.detach();
  });
});

describe("event batches", () => {
  const events = Array.from({ length: 10 }, (_, i) => customEvent("r", { name: `e${i}`, json: "x".repeat(100) }, { sequence: i + 1 }));

  it("binary with an encoder (live): pre-encoded batches decode to the events, within the count and byte budget", () => {
    const batches = [...eventBatches(events, "binary", { batchEvents: 4, batchBytes: 10_000 }, encodeEvent)];
    expect(batches.map(([, last]) => last.sequence)).toEqual([4n, 8n, 10n]);
    const decoded = batches.map(([message]) => fromBinary(SubscribeResponseSchema, toBinary(SubscribeResponseSchema, message)));
    const sequences = decoded.flatMap((m) => (m.message.case === "events" ? m.message.value.events.map((e) => e.sequence) : []));
    expect(sequences).toEqual(events.map((e) => e.sequence));
    const small = [...eventBatches(events, "binary", { batchEvents: 100, batchBytes: 300 }, encodeEvent)];
    expect(small.length).toBeGreaterThanOrEqual(4);
    for (const [message] of small) expect(toBinary(SubscribeResponseSchema, message).length).toBeLessThan(300 + 20);
    // An event larger than the budget travels alone.
    expect([...eventBatches(events.slice(0, 3), "binary", { batchEvents: 100, batchBytes: 10 }, encodeEvent)]).toHaveLength(3);
  });

  it("binary without an encoder (catch-up): messages encoded whole, within the count and the exact byte budget", () => {
    const batches = [...eventBatches(events, "binary", { batchEvents: 4, batchBytes: 10_000 })];
    expect(batches.map(([, last]) => last.sequence)).toEqual([4n, 8n, 10n]);
    const decoded = batches.map(([message]) => fromBinary(SubscribeResponseSchema, toBinary(SubscribeResponseSchema, message)));
    const sequences = decoded.flatMap((m) => (m.message.case === "events" ? m.message.value.events.map((e) => e.sequence) : []));
    expect(sequences).toEqual(events.map((e) => e.sequence));
    expect(decoded.flatMap((m) => (m.message.case === "events" ? m.message.value.events : []))).toEqual(events);
    const small = [...eventBatches(events, "binary", { batchEvents: 100, batchBytes: 300 })];
    expect(small.length).toBeGreaterThanOrEqual(4);
    for (const [message] of small) expect(toBinary(SubscribeResponseSchema, message).length).toBeLessThanOrEqual(300);
    expect(small.map(([, last]) => last.sequence).at(-1)).toBe(10n);
    // An event larger than the budget travels alone.
    expect([...eventBatches(events.slice(0, 3), "binary", { batchEvents: 100, batchBytes: 10 })]).toHaveLength(3);
  });

  it("binary from stored bytes (catch-up of a store that keeps them): batches within the count and byte budget", () => {
    const bytes = events.map((e) => encodeEvent(e));
    const coordinates = events.map((e) => e.sequence);
    const batches = [...storedBatches(bytes, coordinates, { batchEvents: 4, batchBytes: 10_000 })];
    expect(batches.map(([, last]) => last)).toEqual([4n, 8n, 10n]);
    const decoded = batches.map(([message]) => fromBinary(SubscribeResponseSchema, toBinary(SubscribeResponseSchema, message)));
    expect(decoded.flatMap((m) => (m.message.case === "events" ? m.message.value.events : []))).toEqual(events);
    const small = [...storedBatches(bytes, coordinates, { batchEvents: 100, batchBytes: 300 })];
    expect(small.length).toBeGreaterThanOrEqual(4);
    for (const [message] of small) expect(toBinary(SubscribeResponseSchema, message).length).toBeLessThan(300 + 20);
    expect(small.at(-1)![1]).toBe(10n);
    expect([...storedBatches(bytes.slice(0, 3), coordinates, { batchEvents: 100, batchBytes: 10 })]).toHaveLength(3);
    expect([...storedBatches([], [], { batchEvents: 4, batchBytes: 10_000 })]).toHaveLength(0);
  });

  it("a Load page from stored bytes: the events that fit the exact budget, at least one", () => {
    const bytes = events.map((e) => encodeEvent(e));
    const whole = storedPage(bytes);
    expect(whole).toMatchObject({ count: 10, cut: false });
    const response = pageResponse(LoadResponseSchema, whole, { hasMore: false });
    expect(fromBinary(LoadResponseSchema, toBinary(LoadResponseSchema, response)).events).toEqual(events);
    const budget = toBinary(EventBatchSchema, create(EventBatchSchema, { events: events.slice(0, 3) })).length;
    const cut = storedPage(bytes, budget);
    expect(cut).toMatchObject({ count: 3, cut: true });
    expect(storedPage(bytes, budget - 1).count).toBe(2);
    expect(storedPage(bytes, 1)).toMatchObject({ count: 1, cut: true });
  });

  it("binary, live: a one-event batch of the same shared bytes is one message, handed to every subscriber", () => {
    const encode = createSharedEncoder(16);
    const one = events.slice(0, 1).map((e, i) => ({ ...e, position: BigInt(i + 1) }));
    const first = (encoder: typeof encode) => [...eventBatches(one, "binary", { batchEvents: 4, batchBytes: 10_000 }, encoder)][0]![0];
    const a = first(encode);
    const b = first(encode);
    expect(b).toBe(a);
    const decoded = fromBinary(SubscribeResponseSchema, toBinary(SubscribeResponseSchema, a));
    expect(decoded.message.case === "events" && decoded.message.value.events.map((e) => e.sequence)).toEqual([1n]);
    // The one-event fast path hands out the same shared message.
    expect(liveBatch(one[0]!, encode)).toBe(a);
    // Another encoder's bytes for the same event: a message of its own.
    expect(first(encodeEvent)).not.toBe(a);
  });

  it("json: ordinary messages", () => {
    const batches = [...eventBatches(events, "json", { batchEvents: 3, batchBytes: 1 << 20 })];
    expect(batches).toHaveLength(4);
    expect(batches[0]![0].message.case).toBe("events");
  });
});
