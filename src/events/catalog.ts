// The event catalog: every EventType, its dotted name (Skene's wire names),
// the payload case that carries it, and which types may carry an output.
import { EventType, type Event } from "../../gen/runlog/v1/event_pb.js";

export type PayloadCase = NonNullable<Event["payload"]["case"]>;

interface CatalogEntry {
  readonly type: EventType;
  readonly name: string;
  readonly payloadCase: PayloadCase;
  /** Completion events may carry Event.output. */
  readonly completion: boolean;
}

export const catalog: readonly CatalogEntry[] = [
  { type: EventType.WORKFLOW_STARTED, name: "workflow.started", payloadCase: "workflowStarted", completion: false },
  { type: EventType.WORKFLOW_COMPLETED, name: "workflow.completed", payloadCase: "workflowCompleted", completion: true },
  { type: EventType.WORKFLOW_FAILED, name: "workflow.failed", payloadCase: "workflowFailed", completion: false },
  { type: EventType.WORKFLOW_CANCELLED, name: "workflow.cancelled", payloadCase: "workflowCancelled", completion: false },
  { type: EventType.STEP_STARTED, name: "step.started", payloadCase: "stepStarted", completion: false },
  { type: EventType.STEP_COMPLETED, name: "step.completed", payloadCase: "stepCompleted", completion: true },
  { type: EventType.STEP_FAILED, name: "step.failed", payloadCase: "stepFailed", completion: false },
  { type: EventType.BRANCH_EVALUATED, name: "branch.evaluated", payloadCase: "branchEvaluated", completion: false },
  { type: EventType.SIGNAL_WAITING, name: "signal.waiting", payloadCase: "signalWaiting", completion: false },
  { type: EventType.SIGNAL_RECEIVED, name: "signal.received", payloadCase: "signalReceived", completion: false },
  { type: EventType.SIGNAL_TIMEOUT, name: "signal.timeout", payloadCase: "signalTimeout", completion: false },
  { type: EventType.CHILD_SPAWNED, name: "child.spawned", payloadCase: "childSpawned", completion: false },
  { type: EventType.CHILD_COMPLETED, name: "child.completed", payloadCase: "childCompleted", completion: true },
  { type: EventType.CHILD_FAILED, name: "child.failed", payloadCase: "childFailed", completion: false },
  { type: EventType.MAP_STARTED, name: "map.started", payloadCase: "mapStarted", completion: false },
  { type: EventType.MAP_COMPLETED, name: "map.completed", payloadCase: "mapCompleted", completion: true },
  { type: EventType.MAP_FAILED, name: "map.failed", payloadCase: "mapFailed", completion: false },
  { type: EventType.COMPENSATION_STARTED, name: "compensation.started", payloadCase: "compensationStarted", completion: false },
  { type: EventType.COMPENSATION_COMPLETED, name: "compensation.completed", payloadCase: "compensationCompleted", completion: true },
  { type: EventType.COMPENSATION_FAILED, name: "compensation.failed", payloadCase: "compensationFailed", completion: false },
  { type: EventType.SNAPSHOT, name: "snapshot", payloadCase: "snapshot", completion: false },
  { type: EventType.STEP_SCHEDULED, name: "step.scheduled", payloadCase: "stepScheduled", completion: false },
  { type: EventType.STEP_SKIPPED, name: "step.skipped", payloadCase: "stepSkipped", completion: false },
  { type: EventType.CONTEXT_UPDATED, name: "context.updated", payloadCase: "contextUpdated", completion: false },
  { type: EventType.CUSTOM, name: "custom", payloadCase: "custom", completion: false },
];

const byType = new Map(catalog.map((e) => [e.type, e]));
// Validation asks these of every event appended: a property and an array index
// rather than a Map (whose lookups showed in the AppendBatch profile).
const typeByCase = Object.fromEntries(catalog.map((e) => [e.payloadCase, e.type])) as Record<PayloadCase, EventType>;
const completionByType: boolean[] = [];
for (const e of catalog) completionByType[e.type] = e.completion;
const byName = new Map(catalog.map((e) => [e.name, e]));

/** The type a payload case stands for. */
export function typeOfPayloadCase(payloadCase: PayloadCase): EventType {
  // Every PayloadCase is in the catalog (a missing one fails the catalog unit test).
  return typeByCase[payloadCase];
}

/** Skene's dotted name for a type ("workflow.started"); undefined for UNSPECIFIED or unknown values. */
export function eventTypeName(type: EventType): string | undefined {
  return byType.get(type)?.name;
}

/** The type for a dotted name, or undefined. */
export function eventTypeFromName(name: string): EventType | undefined {
  return byName.get(name)?.type;
}

/** Whether events of this type may carry Event.output. */
export function isCompletionType(type: EventType): boolean {
  return completionByType[type] === true;
}

/** Whether a value is a known, specified event type. */
export function isKnownEventType(type: number): type is EventType {
  return byType.has(type);
}
