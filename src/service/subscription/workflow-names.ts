// Which workflow a run belongs to (its workflow.started's workflow_name), for
// the workflow_names filter on live events. Learned from workflow.started
// events as they pass, looked up in the store on a miss; a bounded cache.
import type { Event } from "../../../gen/runlog/v1/event_pb.js";
import type { EventStore } from "../../store/event-store.js";

export interface WorkflowNames {
  /** Records the name when the event is a workflow.started. */
  observe(event: Event): void;
  /** The run's workflow name, "" when it has no workflow.started yet. */
  get(runId: string): string | Promise<string>;
}

export function createWorkflowNames(store: EventStore, maxEntries: number): WorkflowNames {
  const names = new Map<string, string>();
  const remember = (runId: string, name: string) => {
    if (names.size >= maxEntries && !names.has(runId)) {
      // Evict the oldest entry (Map keeps insertion order).
      const oldest = names.keys().next();
      if (!oldest.done) names.delete(oldest.value);
    }
    names.set(runId, name);
  };
  return {
    observe(event) {
      if (event.payload.case === "workflowStarted") remember(event.runId, event.payload.value.workflowName);
    },
    get(runId) {
      const known = names.get(runId);
      if (known !== undefined) return known;
      return store.load(runId, { limit: 1 }).then((result) => {
        const first = result.events[0];
        const name = first?.payload.case === "workflowStarted" ? first.payload.value.workflowName : "";
        // A workflow.started seen meanwhile wins over the (older) stored answer.
        const seen = names.get(runId);
        if (seen !== undefined) return seen;
        remember(runId, name);
        return name;
      });
    },
  };
}
