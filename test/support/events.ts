// Small builders for events of every type, shared by the test files.
//
//   workflowStarted("run-1", { workflowName: "order" })
//   stepCompleted("run-1", { duration: durationFromMs(5) }, { stepName: "charge", sequence: 3, output: { ok: true } })
//
// Each builder takes the run ID, the payload fields (all optional, sensible
// defaults) and the envelope fields (all optional: id "", sequence 0, no
// timestamp — the store fills them in). JSON values are given as plain JSON.
import { create, fromJson, type JsonValue, type MessageInitShape } from "@bufbuild/protobuf";
import {
  durationFromMs,
  timestampFromDate,
  timestampFromMs,
  ValueSchema,
  type Any,
  type Timestamp,
  type Value,
} from "@bufbuild/protobuf/wkt";
import { randomUUID } from "node:crypto";
import {
  BranchEvaluatedSchema,
  ChildCompletedSchema,
  ChildFailedSchema,
  ChildSpawnedSchema,
  CompensationCompletedSchema,
  CompensationFailedSchema,
  CompensationStartedSchema,
  ContextUpdatedSchema,
  CustomEventSchema,
  EventSchema,
  MapCompletedSchema,
  MapFailedSchema,
  MapStartedSchema,
  SignalReceivedSchema,
  SignalTimeoutSchema,
  SignalWaitingSchema,
  SnapshotSchema,
  StepCompletedSchema,
  StepFailedSchema,
  StepScheduledSchema,
  StepSkippedSchema,
  StepStartedSchema,
  WorkflowCancelledSchema,
  WorkflowCompletedSchema,
  WorkflowFailedSchema,
  WorkflowStartedSchema,
  type Event,
  type EventType,
} from "../../gen/runlog/v1/event_pb.js";

/** Envelope fields of a built event. */
export interface EnvelopeInit {
  id?: string;
  sequence?: bigint | number;
  /** Envelope version (payload schema version); 0 → the store's 1. */
  version?: number;
  /** Default UNSPECIFIED: the store derives it from the payload. */
  type?: EventType;
  stepName?: string;
  /** Plain JSON; only allowed on completion events. */
  output?: JsonValue;
  timestamp?: Timestamp | Date | number;
  metadata?: Record<string, string>;
}

/** A google.protobuf.Value from plain JSON. */
export function json(value: JsonValue): Value {
  return fromJson(ValueSchema, value);
}

function toTimestamp(value: Timestamp | Date | number): Timestamp {
  if (typeof value === "number") return timestampFromMs(value);
  if (value instanceof Date) return timestampFromDate(value);
  return value;
}

/** An event with the given payload and envelope. */
export function event(runId: string, payload: Event["payload"], envelope: EnvelopeInit = {}): Event {
  return create(EventSchema, {
    id: envelope.id ?? "",
    runId,
    sequence: BigInt(envelope.sequence ?? 0),
    version: envelope.version ?? 0,
    type: envelope.type,
    stepName: envelope.stepName ?? "",
    payload,
    output: envelope.output === undefined ? undefined : json(envelope.output),
    timestamp: envelope.timestamp === undefined ? undefined : toTimestamp(envelope.timestamp),
    metadata: envelope.metadata ?? {},
  });
}

/** A fresh UUID (v4), e.g. for a client-supplied event ID. */
export function newId(): string {
  return randomUUID();
}

/** A run ID no other test uses. */
export function uniqueRunId(label = "run"): string {
  return `${label}-${randomUUID()}`;
}

type Init<S> = S extends { readonly $typeName: string } ? never : S;
// The payload init shapes, with JSON values given as plain JSON.
type WithJson<T, K extends string> = Omit<T, K | "$typeName"> & { [P in K]?: JsonValue };

export function workflowStarted(
  runId: string,
  p: WithJson<MessageInitShape<typeof WorkflowStartedSchema>, "input"> = {},
  e?: EnvelopeInit,
): Event {
  const value = create(WorkflowStartedSchema, {
    workflowName: p.workflowName ?? "test-workflow",
    version: p.version ?? 1,
    input: p.input === undefined ? undefined : json(p.input),
    taskCount: p.taskCount ?? 0,
  });
  return event(runId, { case: "workflowStarted", value }, e);
}

export function workflowCompleted(
  runId: string,
  p: WithJson<MessageInitShape<typeof WorkflowCompletedSchema>, "output"> = {},
  e?: EnvelopeInit,
): Event {
  const value = create(WorkflowCompletedSchema, {
    output: p.output === undefined ? undefined : json(p.output),
    duration: p.duration,
  });
  return event(runId, { case: "workflowCompleted", value }, e);
}

export function workflowFailed(
  runId: string,
  p: Init<MessageInitShape<typeof WorkflowFailedSchema>> = {},
  e?: EnvelopeInit,
): Event {
  return event(runId, { case: "workflowFailed", value: create(WorkflowFailedSchema, { error: "boom", ...p }) }, e);
}

export function workflowCancelled(
  runId: string,
  p: Init<MessageInitShape<typeof WorkflowCancelledSchema>> = {},
  e?: EnvelopeInit,
): Event {
  return event(runId, { case: "workflowCancelled", value: create(WorkflowCancelledSchema, p) }, e);
}

export function stepStarted(
  runId: string,
  p: Init<MessageInitShape<typeof StepStartedSchema>> = {},
  e?: EnvelopeInit,
): Event {
  return event(runId, { case: "stepStarted", value: create(StepStartedSchema, p) }, { stepName: "step", ...e });
}

export function stepCompleted(
  runId: string,
  p: Init<MessageInitShape<typeof StepCompletedSchema>> = {},
  e?: EnvelopeInit,
): Event {
  return event(runId, { case: "stepCompleted", value: create(StepCompletedSchema, p) }, { stepName: "step", ...e });
}

export function stepFailed(runId: string, p: Init<MessageInitShape<typeof StepFailedSchema>> = {}, e?: EnvelopeInit): Event {
  const value = create(StepFailedSchema, { error: "step failed", attempt: 1, ...p });
  return event(runId, { case: "stepFailed", value }, { stepName: "step", ...e });
}

export function branchEvaluated(
  runId: string,
  p: Init<MessageInitShape<typeof BranchEvaluatedSchema>> = {},
  e?: EnvelopeInit,
): Event {
  const value = create(BranchEvaluatedSchema, { branchName: "branch", choice: "a", ...p });
  return event(runId, { case: "branchEvaluated", value }, e);
}

export function signalWaiting(
  runId: string,
  p: Init<MessageInitShape<typeof SignalWaitingSchema>> = {},
  e?: EnvelopeInit,
): Event {
  return event(runId, { case: "signalWaiting", value: create(SignalWaitingSchema, { signalName: "approval", ...p }) }, e);
}

export function signalReceived(
  runId: string,
  p: WithJson<MessageInitShape<typeof SignalReceivedSchema>, "payload"> = {},
  e?: EnvelopeInit,
): Event {
  const value = create(SignalReceivedSchema, {
    signalName: p.signalName ?? "approval",
    payload: p.payload === undefined ? undefined : json(p.payload),
  });
  return event(runId, { case: "signalReceived", value }, e);
}

export function signalTimeout(
  runId: string,
  p: Init<MessageInitShape<typeof SignalTimeoutSchema>> = {},
  e?: EnvelopeInit,
): Event {
  return event(runId, { case: "signalTimeout", value: create(SignalTimeoutSchema, { signalName: "approval", ...p }) }, e);
}

export function childSpawned(
  runId: string,
  p: WithJson<MessageInitShape<typeof ChildSpawnedSchema>, "input"> = {},
  e?: EnvelopeInit,
): Event {
  const value = create(ChildSpawnedSchema, {
    childRunId: p.childRunId ?? "child",
    workflowName: p.workflowName ?? "child-workflow",
    input: p.input === undefined ? undefined : json(p.input),
  });
  return event(runId, { case: "childSpawned", value }, e);
}

export function childCompleted(
  runId: string,
  p: WithJson<MessageInitShape<typeof ChildCompletedSchema>, "output"> = {},
  e?: EnvelopeInit,
): Event {
  const value = create(ChildCompletedSchema, {
    childRunId: p.childRunId ?? "child",
    output: p.output === undefined ? undefined : json(p.output),
  });
  return event(runId, { case: "childCompleted", value }, e);
}

export function childFailed(
  runId: string,
  p: Init<MessageInitShape<typeof ChildFailedSchema>> = {},
  e?: EnvelopeInit,
): Event {
  const value = create(ChildFailedSchema, { childRunId: "child", error: "child failed", ...p });
  return event(runId, { case: "childFailed", value }, e);
}

export function mapStarted(runId: string, p: Init<MessageInitShape<typeof MapStartedSchema>> = {}, e?: EnvelopeInit): Event {
  return event(runId, { case: "mapStarted", value: create(MapStartedSchema, { itemCount: 1, ...p }) }, e);
}

export function mapCompleted(
  runId: string,
  p: WithJson<MessageInitShape<typeof MapCompletedSchema>, "results"> = {},
  e?: EnvelopeInit,
): Event {
  const value = create(MapCompletedSchema, { results: p.results === undefined ? undefined : json(p.results) });
  return event(runId, { case: "mapCompleted", value }, e);
}

export function mapFailed(runId: string, p: Init<MessageInitShape<typeof MapFailedSchema>> = {}, e?: EnvelopeInit): Event {
  return event(runId, { case: "mapFailed", value: create(MapFailedSchema, { error: "item failed", ...p }) }, e);
}

export function compensationStarted(
  runId: string,
  p: Init<MessageInitShape<typeof CompensationStartedSchema>> = {},
  e?: EnvelopeInit,
): Event {
  return event(runId, { case: "compensationStarted", value: create(CompensationStartedSchema, p) }, e);
}

export function compensationCompleted(
  runId: string,
  p: Init<MessageInitShape<typeof CompensationCompletedSchema>> = {},
  e?: EnvelopeInit,
): Event {
  return event(runId, { case: "compensationCompleted", value: create(CompensationCompletedSchema, p) }, e);
}

export function compensationFailed(
  runId: string,
  p: Init<MessageInitShape<typeof CompensationFailedSchema>> = {},
  e?: EnvelopeInit,
): Event {
  const value = create(CompensationFailedSchema, { error: "undo failed", ...p });
  return event(runId, { case: "compensationFailed", value }, e);
}

/** Skene's `snapshot` event type (not runlog's own snapshots, which live beside the events). */
export function snapshotEvent(runId: string, e?: EnvelopeInit): Event {
  return event(runId, { case: "snapshot", value: create(SnapshotSchema) }, e);
}

export function stepScheduled(
  runId: string,
  p: Init<MessageInitShape<typeof StepScheduledSchema>> = {},
  e?: EnvelopeInit,
): Event {
  return event(runId, { case: "stepScheduled", value: create(StepScheduledSchema, p) }, { stepName: "step", ...e });
}

export function stepSkipped(
  runId: string,
  p: Init<MessageInitShape<typeof StepSkippedSchema>> = {},
  e?: EnvelopeInit,
): Event {
  return event(runId, { case: "stepSkipped", value: create(StepSkippedSchema, p) }, { stepName: "step", ...e });
}

export function contextUpdated(
  runId: string,
  p: WithJson<MessageInitShape<typeof ContextUpdatedSchema>, "value"> = {},
  e?: EnvelopeInit,
): Event {
  const value = create(ContextUpdatedSchema, {
    key: p.key ?? "key",
    value: p.value === undefined ? undefined : json(p.value),
  });
  return event(runId, { case: "contextUpdated", value }, e);
}

/** A custom event with a JSON body (or, with `message`, a packed protobuf message). */
export function customEvent(
  runId: string,
  p: { name?: string; json?: JsonValue; message?: Any } = {},
  e?: EnvelopeInit,
): Event {
  const body =
    p.message !== undefined
      ? { case: "message" as const, value: p.message }
      : p.json !== undefined
        ? { case: "json" as const, value: json(p.json) }
        : { case: undefined };
  const value = create(CustomEventSchema, { name: p.name ?? "test.custom", body });
  return event(runId, { case: "custom", value }, e);
}

/**
 * One event of every payload case (all 25, each once), every field set to a
 * non-default value: sequences 1..25, IDs, versions, timestamps and metadata
 * given. Not a valid lifecycle (it ends failed, cancelled and completed); meant
 * for encoding and storage tests, not for the reconstructor.
 */
export function oneOfEveryType(runId: string, childRunId = `${runId}-child`): Event[] {
  const at = (n: number) => ({
    id: newId(),
    sequence: n,
    version: 2,
    timestamp: new Date(Date.UTC(2025, 0, 1, 0, 0, n, 123)),
    metadata: { "trace-id": `trace-${n}`, tenant: "acme" },
  });
  return [
    workflowStarted(
      runId,
      { workflowName: "order", version: 3, input: { order: 42, items: ["a", "b"], rush: true, note: null }, taskCount: 7 },
      at(1),
    ),
    stepScheduled(runId, { dependencies: ["validate", "reserve"] }, { ...at(2), stepName: "charge" }),
    stepStarted(runId, { attempt: 1, assignedTo: [newId(), newId()] }, { ...at(3), stepName: "charge" }),
    stepFailed(
      runId,
      { error: "card declined", attempt: 1, willRetry: true, duration: durationFromMs(1500) },
      { ...at(4), stepName: "charge" },
    ),
    stepCompleted(
      runId,
      { duration: { seconds: 1n, nanos: 500_000_001 } },
      { ...at(5), stepName: "charge", output: { receipt: "r-1", amount: 12.5 } },
    ),
    stepSkipped(runId, { reason: "not needed" }, { ...at(6), stepName: "gift-wrap" }),
    branchEvaluated(runId, { branchName: "shipping", choice: "express" }, at(7)),
    signalWaiting(runId, { signalName: "approval", timeoutAt: timestampFromMs(Date.UTC(2025, 0, 2)) }, at(8)),
    signalReceived(runId, { signalName: "approval", payload: { approved: true, by: "ana" } }, at(9)),
    signalTimeout(runId, { signalName: "pickup" }, at(10)),
    childSpawned(runId, { childRunId, workflowName: "ship", input: { address: "Main St 1" } }, at(11)),
    childCompleted(runId, { childRunId, output: { tracking: "T-1" } }, { ...at(12), output: { tracking: "T-1" } }),
    childFailed(runId, { childRunId, error: "carrier down" }, at(13)),
    mapStarted(runId, { itemCount: 3 }, { ...at(14), stepName: "notify" }),
    mapFailed(runId, { failedIndex: 2, error: "bounce" }, { ...at(15), stepName: "notify" }),
    mapCompleted(runId, { results: [1, "two", { three: 3 }] }, { ...at(16), stepName: "notify", output: [1, 2] }),
    contextUpdated(runId, { key: "discount", value: { percent: 10 } }, at(17)),
    customEvent(runId, { name: "nika.provider_called", json: { provider: "x", model: "m", prompt_len: 12 } }, at(18)),
    snapshotEvent(runId, at(19)),
    compensationStarted(runId, { triggerStep: "charge", stepsToUndo: ["reserve", "validate"] }, at(20)),
    compensationFailed(runId, { failedStep: "reserve", error: "gone" }, at(21)),
    compensationCompleted(runId, { stepsCompensated: ["reserve", "validate"] }, { ...at(22), output: "done" }),
    workflowFailed(runId, { error: "payment", failedStep: "charge", recoverable: true }, at(23)),
    workflowCancelled(runId, { reason: "customer asked" }, at(24)),
    workflowCompleted(
      runId,
      { output: { status: "ok" }, duration: durationFromMs(25_000) },
      { ...at(25), output: { status: "ok" } },
    ),
  ];
}
