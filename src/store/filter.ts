// Event filters, compiled once per request into a predicate every store can use.
import type { Event } from "../../gen/runlog/v1/event_pb.js";
import type { EventFilter } from "./event-store.js";

/** A compiled filter; `undefined` matches everything. workflowOf gives a run's workflow name. */
export type EventPredicate = (event: Event, workflowOf: (runId: string) => string) => boolean;

export function compileFilter(filter: EventFilter | undefined): EventPredicate | undefined {
  if (filter === undefined) return undefined;
  const types = filter.types?.length ? new Set(filter.types) : undefined;
  const steps = filter.stepNames?.length ? new Set(filter.stepNames) : undefined;
  const workflows = filter.workflowNames?.length ? new Set(filter.workflowNames) : undefined;
  const prefix = filter.runIdPrefix || undefined;
  if (!types && !steps && !workflows && prefix === undefined) return undefined;
  return (event, workflowOf) =>
    (types === undefined || types.has(event.type)) &&
    (steps === undefined || steps.has(event.stepName)) &&
    (prefix === undefined || event.runId.startsWith(prefix)) &&
    (workflows === undefined || workflows.has(workflowOf(event.runId)));
}
