// Event filters, compiled once per request into a predicate every store can use.
import type { Event, EventType } from "../../gen/runlog/v1/event_pb.js";
import type { EventFilter } from "./event-store.js";

/** A compiled filter; `undefined` matches everything. workflowOf gives a run's workflow name. */
export type EventPredicate = (event: Event, workflowOf: (runId: string) => string) => boolean;

/** A compiled filter over an event's fields, for a store that keeps them apart from the event. */
export type FieldPredicate = (
  type: EventType,
  stepName: string,
  runId: string,
  workflowOf: (runId: string) => string,
) => boolean;

export function compileFilter(filter: EventFilter | undefined): EventPredicate | undefined {
  const matches = compileFieldFilter(filter);
  return matches && ((event, workflowOf) => matches(event.type, event.stepName, event.runId, workflowOf));
}

export function compileFieldFilter(filter: EventFilter | undefined): FieldPredicate | undefined {
  if (filter === undefined) return undefined;
  const types = filter.types?.length ? new Set(filter.types) : undefined;
  const steps = filter.stepNames?.length ? new Set(filter.stepNames) : undefined;
  const workflows = filter.workflowNames?.length ? new Set(filter.workflowNames) : undefined;
  const prefix = filter.runIdPrefix || undefined;
  if (!types && !steps && !workflows && prefix === undefined) return undefined;
  return (type, stepName, runId, workflowOf) =>
    (types === undefined || types.has(type)) &&
    (steps === undefined || steps.has(stepName)) &&
    (prefix === undefined || runId.startsWith(prefix)) &&
    (workflows === undefined || workflows.has(workflowOf(runId)));
}
