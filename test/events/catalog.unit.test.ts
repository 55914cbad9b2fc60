// The catalog covers every payload case and every EventType exactly once, with Skene's names.
import { describe, expect, it } from "vitest";
import { EventSchema, EventType, EventTypeSchema } from "../../gen/runlog/v1/event_pb.js";
import {
  catalog,
  eventTypeFromName,
  eventTypeName,
  isCompletionType,
  isKnownEventType,
  typeOfPayloadCase,
  type PayloadCase,
} from "../../src/events/catalog.js";

const payloadCases = EventSchema.oneofs.find((o) => o.name === "payload")!.fields.map((f) => f.localName as PayloadCase);
const specifiedTypes = EventTypeSchema.values.map((v) => v.number as EventType).filter((t) => t !== EventType.UNSPECIFIED);

const skeneNames = [
  "workflow.started", "workflow.completed", "workflow.failed", "workflow.cancelled",
  "step.started", "step.completed", "step.failed",
  "branch.evaluated",
  "signal.waiting", "signal.received", "signal.timeout",
  "child.spawned", "child.completed", "child.failed",
  "map.started", "map.completed", "map.failed",
  "compensation.started", "compensation.completed", "compensation.failed",
  "snapshot",
];

describe("event catalog", () => {
  it("has 25 payload cases: Skene's 21, three additions and custom", () => {
    expect(payloadCases).toHaveLength(25);
    expect(catalog).toHaveLength(25);
  });

  it("lists every payload case of runlog.v1.Event exactly once", () => {
    expect(catalog.map((e) => e.payloadCase).sort()).toEqual([...payloadCases].sort());
  });

  it("lists every specified EventType exactly once", () => {
    expect(catalog.map((e) => e.type).sort((a, b) => a - b)).toEqual([...specifiedTypes].sort((a, b) => a - b));
  });

  it("has all of Skene's 21 dotted names, plus step.scheduled, step.skipped, context.updated and custom", () => {
    const names = catalog.map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining(skeneNames));
    expect(names.filter((n) => !skeneNames.includes(n)).sort()).toEqual(
      ["context.updated", "custom", "step.scheduled", "step.skipped"],
    );
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(catalog.map((e) => [e.name, e] as const))("%s: enum name, payload case and name agree", (name, entry) => {
    // EVENT_TYPE_WORKFLOW_STARTED ↔ workflow.started ↔ workflowStarted
    const enumName = EventType[entry.type];
    expect(enumName.toLowerCase().replace("_", ".")).toBe(name);
    const camel = enumName.toLowerCase().replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    expect(entry.payloadCase).toBe(camel);
    expect(typeOfPayloadCase(entry.payloadCase)).toBe(entry.type);
    expect(eventTypeName(entry.type)).toBe(name);
    expect(eventTypeFromName(name)).toBe(entry.type);
    expect(isKnownEventType(entry.type)).toBe(true);
  });

  it("only the *.completed types are completion types (may carry output)", () => {
    const completions = catalog.filter((e) => isCompletionType(e.type)).map((e) => e.name);
    expect(completions.sort()).toEqual(catalog.map((e) => e.name).filter((n) => n.endsWith(".completed")).sort());
    expect(completions).toHaveLength(5);
  });

  it("knows nothing of UNSPECIFIED or unknown values", () => {
    expect(eventTypeName(EventType.UNSPECIFIED)).toBeUndefined();
    expect(eventTypeName(999 as EventType)).toBeUndefined();
    expect(eventTypeFromName("workflow.begun")).toBeUndefined();
    expect(eventTypeFromName("WORKFLOW_STARTED")).toBeUndefined();
    expect(isKnownEventType(EventType.UNSPECIFIED)).toBe(false);
    expect(isKnownEventType(999)).toBe(false);
    expect(isCompletionType(EventType.UNSPECIFIED)).toBe(false);
  });
});
