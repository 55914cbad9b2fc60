// The memory store keeps events as bytes; given each event's encoding as the
// client sent it (AppendOptions.received, what the gRPC port passes), it keeps
// those bytes and writes only the normalized fields after them. Whatever the
// client left open or spelled differently, every reader must get exactly the
// normalized event: decoded copies, the stored bytes (decoded here by
// protobuf-es, not by runlog's codec), and the same as without the bytes.
import { create, equals, fromBinary, toBinary, toJson } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EventSchema, type Event } from "../../gen/runlog/v1/event_pb.js";
import { RunStateSchema } from "../../gen/runlog/v1/run_state_pb.js";
import { LazyValue } from "../../src/codec/lazy-value.js";
import { createReconstructor } from "../../src/reconstruct/create-reconstructor.js";
import { AppendBatchRequestSchema, AppendRequestSchema, ExpectedSequenceSchema } from "../../gen/runlog/v1/event_store_pb.js";
import { receivedElements, rememberReceived } from "../../src/service/received-bytes.js";
import { createMemoryEventStore } from "../../src/store/memory/memory-event-store.js";
import { oneOfEveryType, stepCompleted, stepStarted, workflowStarted } from "../support/events.js";

const samples = oneOfEveryType("r");

/** An event as a client may send it: any envelope field left open, given, or spelled otherwise. */
const sentEvent = fc
  .record({
    sample: fc.integer({ min: 0, max: samples.length - 1 }),
    id: fc.option(fc.uuid().chain((id) => fc.constantFrom(id, id.toUpperCase())), { nil: undefined }),
    version: fc.option(fc.integer({ min: 1, max: 1000 }), { nil: undefined }),
    typed: fc.boolean(),
    seconds: fc.option(fc.bigInt({ min: 1n, max: 1n << 40n }), { nil: undefined }),
    nanos: fc.integer({ min: 0, max: 999_999_999 }),
    position: fc.option(fc.bigInt({ min: 1n, max: 1n << 40n }), { nil: undefined }),
    stepName: fc.string({ maxLength: 20, unit: "grapheme" }),
    unknownTopLevel: fc.boolean(),
  })
  .map((r) => {
    const sample = samples[r.sample]!;
    const event = create(EventSchema, {
      runId: "r",
      stepName: r.stepName,
      payload: sample.payload,
      ...(sample.output && { output: sample.output }),
      ...(r.id !== undefined && { id: r.id }),
      ...(r.version !== undefined && { version: r.version }),
      ...(r.typed && { type: sample.type }),
      ...(r.seconds !== undefined && { timestamp: { seconds: r.seconds, nanos: r.nanos } }),
      ...(r.position !== undefined && { position: r.position }),
    });
    if (r.unknownTopLevel) event.$unknown = [{ no: 99, wireType: WireType.Varint, data: new Uint8Array([7]) }];
    return event;
  });

/** Events of one run with distinct IDs, as one batch. */
const sentBatch = fc
  .array(sentEvent, { minLength: 1, maxLength: 12 })
  .map((events) => events.filter((e, i) => e.id === "" || events.findIndex((f) => f.id.toLowerCase() === e.id.toLowerCase()) === i));

const decodedByProtobufEs = (bytes: Uint8Array) => fromBinary(EventSchema, bytes);

describe("memory store: events kept as the bytes they were received as", () => {
  it("gives every reader the normalized events, as when it encodes them itself", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(sentBatch, { minLength: 1, maxLength: 4 }), async (batches) => {
        const withBytes = createMemoryEventStore();
        const without = createMemoryEventStore();
        const stored: Event[] = [];
        for (const batch of batches) {
          const result = await withBytes.append(batch, { received: batch.map((e) => toBinary(EventSchema, e)) });
          stored.push(...result.stored!);
          // The same envelope as the first store assigned, so that both stores must agree field for field.
          const same = batch.map((e, i) => create(EventSchema, { ...e, id: result.stored![i]!.id, timestamp: result.stored![i]!.timestamp }));
          await without.append(same);
        }
        const loaded = (await withBytes.load("r")).events;
        const log = await withBytes.readLogEncoded!();
        const run = await withBytes.loadEncoded!("r");
        const expected = (await without.load("r")).events;
        expect(loaded.length).toBe(stored.length);
        for (let i = 0; i < stored.length; i++) {
          const want = stored[i]!;
          expect(equals(EventSchema, loaded[i]!, want)).toBe(true);
          expect(equals(EventSchema, decodedByProtobufEs(log.events.bytes[i]!), want)).toBe(true);
          expect(equals(EventSchema, decodedByProtobufEs(run.events.bytes[i]!), want)).toBe(true);
          expect(equals(EventSchema, expected[i]!, want)).toBe(true);
          expect(log.events.coordinates[i]).toBe(want.position);
          expect(run.events.coordinates[i]).toBe(want.sequence);
        }
      }),
      { numRuns: 150 },
    );
  });

  it("ignores received bytes that do not come one per event", async () => {
    const store = createMemoryEventStore();
    const events = samples.slice(0, 3).map((e) => create(EventSchema, { ...e, runId: "r" }));
    const wrong = [toBinary(EventSchema, events[0]!)];
    const result = await store.append(events, { received: wrong });
    const loaded = (await store.load("r")).events;
    expect(loaded.map((e, i) => equals(EventSchema, e, result.stored![i]!))).toEqual([true, true, true]);
  });
});

describe("receivedElements", () => {
  const batch = (n: number) => create(AppendBatchRequestSchema, { events: samples.slice(0, n).map((e) => ({ ...e, runId: "r" })) });

  it("gives the bytes of each element of a repeated field, between other fields", () => {
    const events = batch(3).events.map((e) => toBinary(EventSchema, e));
    const expected = toBinary(ExpectedSequenceSchema, create(ExpectedSequenceSchema, { runId: "r", lastSequence: 4n }));
    const writer = new BinaryWriter();
    writer.tag(1, WireType.LengthDelimited).bytes(events[0]!);
    writer.tag(2, WireType.LengthDelimited).bytes(expected);
    writer.tag(1, WireType.LengthDelimited).bytes(events[1]!);
    writer.tag(7, WireType.Varint).uint32(300).tag(8, WireType.Bit64).fixed64(1n).tag(9, WireType.Bit32).fixed32(2);
    writer.tag(1, WireType.LengthDelimited).bytes(events[2]!);
    const bytes = writer.finish();
    const request = fromBinary(AppendBatchRequestSchema, bytes);
    rememberReceived(request, bytes);
    expect(receivedElements(request, 1, 3)).toEqual(events);
  });

  it("gives nothing for a message it was not told about, a wrong count, or malformed bytes", () => {
    const request = batch(2);
    expect(receivedElements(request, 1, 2)).toBeUndefined();
    const bytes = toBinary(AppendBatchRequestSchema, request);
    rememberReceived(request, bytes);
    expect(receivedElements(request, 1, 3)).toBeUndefined();
    const truncated = create(AppendBatchRequestSchema);
    rememberReceived(truncated, bytes.subarray(0, bytes.length - 1));
    expect(receivedElements(truncated, 1, 2)).toBeUndefined();
    const group = create(AppendBatchRequestSchema);
    rememberReceived(group, new Uint8Array([(5 << 3) | WireType.StartGroup, (5 << 3) | WireType.EndGroup]));
    expect(receivedElements(group, 1, 0)).toBeUndefined();
  });

  it("gives nothing for a singular event sent twice (decoders merge the two)", () => {
    const first = toBinary(EventSchema, create(EventSchema, { ...samples[0]!, runId: "r" }));
    const second = toBinary(EventSchema, create(EventSchema, { stepName: "merged" }));
    const bytes = new BinaryWriter().tag(1, WireType.LengthDelimited).bytes(first).tag(1, WireType.LengthDelimited).bytes(second).finish();
    const request = fromBinary(AppendRequestSchema, bytes);
    expect(request.event?.stepName).toBe("merged");
    rememberReceived(request, bytes);
    expect(receivedElements(request, 1, 1)).toBeUndefined();
  });
});

describe("replays of the bytes layout leave JSON values encoded", () => {
  // foldOnly loads (the reconstructor's replays) decode the stored bytes with
  // lazy Values over the store's slabs: the fold holds them by reference, and
  // a RunState response copies their bytes (adr/0007). They read as appended.
  // The events carry their own timestamp, so two stores given the same
  // history hold the same bytes whatever the clock does between appends.
  const timestamp = Date.UTC(2026, 11, 4, 12);
  const history = (runId: string) => [
    workflowStarted(runId, { workflowName: "w", input: { order: 7 } }, { timestamp }),
    stepStarted(runId, {}, { stepName: "pay", timestamp }),
    stepCompleted(runId, {}, { stepName: "pay", output: { ok: true, lines: [1, 2], note: "ünï" }, timestamp }),
  ];

  it("a foldOnly load returns unread LazyValues that read as the values appended", async () => {
    const store = createMemoryEventStore();
    await store.append(history("lazy"));
    const replayed = (await store.load("lazy", { foldOnly: true })).events;
    const output = replayed[2]!.output;
    expect(output).toBeInstanceOf(LazyValue);
    expect(LazyValue.unread(output as LazyValue)).toBeDefined();
    expect(toJson(ValueSchema, output!)).toEqual({ ok: true, lines: [1, 2], note: "ünï" });
    // A plain load decodes everything, as before.
    expect((await store.load("lazy")).events[2]!.output).not.toBeInstanceOf(LazyValue);
  });

  it("the reconstructed RunState is the one the objects layout gives, field for field", async () => {
    const states = await Promise.all(
      (["bytes", "objects"] as const).map(async (layout) => {
        const store = createMemoryEventStore({ layout });
        await store.append(history("same"));
        const { state } = await createReconstructor({ store, cacheSize: 0 }).getRunState("same");
        return state;
      }),
    );
    expect(toJson(RunStateSchema, states[0]!)).toEqual(toJson(RunStateSchema, states[1]!));
    expect(toBinary(RunStateSchema, states[0]!)).toEqual(toBinary(RunStateSchema, states[1]!));
  });
});
