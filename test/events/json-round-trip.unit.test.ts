// S1: JSON round trip of every event type. One event of each of the 25 payload
// cases (every field set), as a store returns it (type, position set), survives
// proto JSON and binary unchanged; google.protobuf.Value fields are real JSON.
import {
  create,
  createRegistry,
  fromBinary,
  fromJson,
  fromJsonString,
  toBinary,
  toJson,
  toJsonString,
  type JsonObject,
  type JsonValue,
} from "@bufbuild/protobuf";
import { anyPack, DurationSchema, timestampFromMs, TimestampSchema } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { EventSchema, EventType, WorkflowStartedSchema, file_runlog_v1_event, type Event } from "../../gen/runlog/v1/event_pb.js";
import { typeOfPayloadCase } from "../../src/events/catalog.js";
import { customEvent, oneOfEveryType, stepCompleted, workflowStarted } from "../support/events.js";

const registry = createRegistry(file_runlog_v1_event);

/** As a store returns it: type resolved, position set. */
function asStored(event: Event, position: number): Event {
  event.type = typeOfPayloadCase(event.payload.case!);
  event.position = BigInt(position);
  return event;
}

const everyType = oneOfEveryType("run-json").map((e, i) => asStored(e, 1000 + i));

function jsonRoundTrip(event: Event): Event {
  // Through text, as a client would see it.
  const text = JSON.stringify(toJson(EventSchema, event, { registry }));
  return fromJson(EventSchema, JSON.parse(text) as JsonObject, { registry });
}

describe("S1: JSON round trip of every event type", () => {
  it("covers all 25 payload cases", () => {
    expect(new Set(everyType.map((e) => e.payload.case)).size).toBe(25);
  });

  it.each(everyType.map((e) => [e.payload.case!, e] as const))("%s survives proto JSON", (_, event) => {
    expect(jsonRoundTrip(event)).toEqual(event);
  });

  it.each(everyType.map((e) => [e.payload.case!, e] as const))("%s survives binary", (_, event) => {
    expect(fromBinary(EventSchema, toBinary(EventSchema, event))).toEqual(event);
  });

  it("a custom event with a packed protobuf message survives JSON (with a registry) and binary", () => {
    const packed = anyPack(WorkflowStartedSchema, create(WorkflowStartedSchema, { workflowName: "inner", version: 2 }));
    const event = asStored(customEvent("run-json", { name: "domain.thing", message: packed }, { sequence: 1 }), 1);
    expect(jsonRoundTrip(event)).toEqual(event);
    expect(fromBinary(EventSchema, toBinary(EventSchema, event))).toEqual(event);
    const json = toJson(EventSchema, event, { registry }) as JsonObject;
    expect(json["custom"]).toMatchObject({
      name: "domain.thing",
      message: { "@type": "type.googleapis.com/runlog.v1.WorkflowStarted", workflowName: "inner", version: 2 },
    });
  });

  it("google.protobuf.Value fields are real JSON, not base64", () => {
    const event = everyType.find((e) => e.payload.case === "workflowStarted")!;
    const json = toJson(EventSchema, event) as JsonObject;
    expect(json["workflowStarted"]).toEqual({
      workflowName: "order",
      version: 3,
      input: { order: 42, items: ["a", "b"], rush: true, note: null },
      taskCount: 7,
    });
    const completed = toJson(EventSchema, everyType.find((e) => e.payload.case === "stepCompleted")!) as JsonObject;
    expect(completed["output"]).toEqual({ receipt: "r-1", amount: 12.5 });
    // int64/uint64 as strings, enums by name, timestamps and durations as RFC 3339 / seconds strings.
    expect(completed).toMatchObject({
      sequence: "5",
      position: String(event.position + 4n),
      type: "EVENT_TYPE_STEP_COMPLETED",
      timestamp: "2025-01-01T00:00:05.123Z",
      stepCompleted: { duration: "1.500000001s" },
      metadata: { "trace-id": "trace-5", tenant: "acme" },
    });
  });

  it("reads Skene-style snake_case field names and writes them on request", () => {
    const text = JSON.stringify({
      id: "0190a0b1-7c2d-7e3f-8a4b-5c6d7e8f9a0b",
      run_id: "run-1",
      sequence: "1",
      type: "EVENT_TYPE_WORKFLOW_STARTED",
      step_name: "",
      workflow_started: { workflow_name: "order", version: 1, input: { n: 1 }, task_count: 2 },
      metadata: { "trace-id": "t" },
    });
    const event = fromJsonString(EventSchema, text);
    expect(event.runId).toBe("run-1");
    expect(event.type).toBe(EventType.WORKFLOW_STARTED);
    expect(event.payload.case).toBe("workflowStarted");
    expect(event.payload.value).toMatchObject({ workflowName: "order", taskCount: 2 });
    const out = JSON.parse(toJsonString(EventSchema, event, { useProtoFieldName: true })) as JsonObject;
    expect(out).toMatchObject({ run_id: "run-1", workflow_started: { workflow_name: "order", task_count: 2, input: { n: 1 } } });
  });

  it.each<[string, JsonValue]>([
    ["null", null],
    ["an empty object", {}],
    ["an empty array", []],
    ["an empty string", ""],
    ["zero", 0],
    ["a negative fraction", -12.75],
    ["a large double", 1.7976931348623157e308],
    ["unicode and escapes", 'ünï "cödé" \n\t ✓ 🚀 \u0000'],
    ["deep nesting", { a: [{ b: [[{ c: null }]] }] }],
  ])("a Value holding %s survives JSON and binary", (_, input) => {
    const event = asStored(workflowStarted("run-edge", { input }, { sequence: 1, timestamp: timestampFromMs(0) }), 1);
    expect(jsonRoundTrip(event)).toEqual(event);
    expect(fromBinary(EventSchema, toBinary(EventSchema, event))).toEqual(event);
    expect((toJson(EventSchema, event) as JsonObject)["workflowStarted"]).toMatchObject({ input });
  });

  it("extreme envelope values survive: max int64 sequence, max uint64 position, nanosecond timestamps", () => {
    const event = stepCompleted("run-edge", { duration: create(DurationSchema, { seconds: 315_576_000_000n, nanos: 999_999_999 }) }, {
      sequence: 9_223_372_036_854_775_807n,
      version: 2_147_483_647,
      timestamp: create(TimestampSchema, { seconds: 253_402_300_799n, nanos: 999_999_999 }),
    });
    event.type = EventType.STEP_COMPLETED;
    event.position = 18_446_744_073_709_551_615n;
    expect(jsonRoundTrip(event)).toEqual(event);
    expect(fromBinary(EventSchema, toBinary(EventSchema, event))).toEqual(event);
    expect(toJson(EventSchema, event)).toMatchObject({
      sequence: "9223372036854775807",
      position: "18446744073709551615",
      timestamp: "9999-12-31T23:59:59.999999999Z",
      stepCompleted: { duration: "315576000000.999999999s" },
    });
  });
});
