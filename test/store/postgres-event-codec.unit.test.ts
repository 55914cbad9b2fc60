// The payload column's codec (src/store/postgres/event-codec.ts): encodeEvents() must
// give, for each event, exactly the bytes encodeEvent() gives — with position 0 — and
// decode back to the event.
import { describe, expect, it } from "vitest";
import { decodeEvent, encodeEvent, encodeEvents } from "../../src/store/postgres/event-codec.js";
import { newId, stepCompleted, stepStarted, workflowStarted } from "../support/events.js";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

describe("PostgreSQL store: event payload codec", () => {
  const runId = "run-codec";
  const events = [
    workflowStarted(runId, { input: { a: [1, "two", null, { deep: true }] } }, { id: newId(), sequence: 1, metadata: { trace: "t-1" } }),
    stepStarted(runId, {}, { sequence: 2, stepName: "x".repeat(300) }),
    stepCompleted(runId, {}, { sequence: 3, output: { big: "é".repeat(70_000) } }),
    stepStarted(runId, {}, { sequence: 4 }),
  ];
  events[3]!.position = 42n; // stored without its position

  it("encodeEvents gives each event's own encoding, position 0, for batches of one and many", () => {
    expect(encodeEvents(events).map(hex)).toEqual(events.map((e) => hex(encodeEvent(e))));
    expect(encodeEvents([events[1]!]).map(hex)).toEqual([hex(encodeEvent(events[1]!))]);
    expect(encodeEvents([])).toEqual([]);
    const decoded = encodeEvents(events).map((bytes, i) => decodeEvent(bytes, BigInt(i + 1)));
    expect(decoded.map((e) => e.sequence)).toEqual([1n, 2n, 3n, 4n]);
    expect(decoded[3]!.position).toBe(4n);
    expect(decoded[2]!.output).toEqual(events[2]!.output);
    expect(events[3]!.position).toBe(42n); // the caller's event is not changed
  });

  it("decodes for the fold (LoadOptions.foldOnly) without metadata and id, everything else as stored", () => {
    const bytes = encodeEvent(events[0]!);
    const full = decodeEvent(bytes, 1n);
    const forFold = decodeEvent(bytes, 1n, true);
    expect(full.metadata).toEqual({ trace: "t-1" });
    expect(full.id).not.toBe("");
    expect(forFold.metadata).toEqual({});
    expect(forFold.id).toBe("");
    expect({ ...forFold, metadata: {}, id: "" }).toEqual({ ...full, metadata: {}, id: "" });
  });
});
