// The fold: evolve(state, event) moves a run's working state by one event.
// Pure in the event-sourcing sense — the result depends only on the state and
// the event (no clock, no I/O, no randomness) — but it mutates and returns the
// state it is given, so that folding 1,000 events allocates almost nothing
// (clone first with cloneRunModel when the original must survive).
//
// Every EventType has a case; the `never` check makes a new enum value a
// compile error until it is handled here.
//
// Reading of the catalog (docs/lifecycle-rules.md explains which histories are valid;
// evolve folds any stored history, valid or not, deterministically):
//   - workflow.completed output: the payload's output, else Event.output.
//   - steps exist from their first step.* event, in first-seen order. Other events
//     that name a step (signals, maps, children, branches) do not create one.
//   - step.started: RUNNING, attempts = attempt named (never lower) or +1, started_at
//     = this attempt's start; finished_at, duration cleared. output and last_error kept.
//   - step.completed / step.failed: finished_at = event time; duration = the payload's,
//     else finished_at − started_at. step.failed with will_retry → RETRYING, else FAILED.
//   - compensation.completed: its steps_compensated are appended, and each named
//     step already known becomes COMPENSATED — unless it is running: an attempt in
//     flight has not been undone, and it may still complete or fail.
//   - context.updated without a value sets the key to JSON null.
//   - custom and snapshot events are counted, not interpreted.
import { create } from "@bufbuild/protobuf";
import { NullValue, ValueSchema, type Duration, type Timestamp, type Value } from "@bufbuild/protobuf/wkt";
import { EventType, type Event } from "../../gen/runlog/v1/event_pb.js";
import { ChildStatus, CompensationStatus, SignalStatus, StepStatus } from "../../gen/runlog/v1/run_state_pb.js";
import { trackRunStatus } from "../events/run-status.js";
import { eventTypeOf } from "./event-type-of.js";
import type { ChildModel, MapModel, RunModel, SignalModel, StepModel } from "./run-model.js";

/**
 * Folds one event into the state (mutating it) and returns it.
 * `type` may be passed when already resolved; by default it is the event's own,
 * or derived from the payload when UNSPECIFIED.
 */
export function evolve(state: RunModel, event: Event, type: EventType = eventTypeOf(event)): RunModel {
  trackRunStatus(state.track, event, type);
  const at = event.timestamp;
  const payload = event.payload;
  switch (type) {
    case EventType.WORKFLOW_STARTED: {
      const p = payload.case === "workflowStarted" ? payload.value : undefined;
      state.started = true;
      state.workflowName = p?.workflowName ?? "";
      state.workflowVersion = p?.version ?? 0;
      state.input = p?.input;
      break;
    }
    case EventType.WORKFLOW_COMPLETED: {
      const p = payload.case === "workflowCompleted" ? payload.value : undefined;
      state.ended = EventType.WORKFLOW_COMPLETED;
      state.output = p?.output ?? event.output;
      break;
    }
    case EventType.WORKFLOW_FAILED: {
      const p = payload.case === "workflowFailed" ? payload.value : undefined;
      state.ended = EventType.WORKFLOW_FAILED;
      state.error = p?.error ?? "";
      state.failedStep = p?.failedStep ?? "";
      state.recoverable = p?.recoverable ?? false;
      break;
    }
    case EventType.WORKFLOW_CANCELLED: {
      const p = payload.case === "workflowCancelled" ? payload.value : undefined;
      state.ended = EventType.WORKFLOW_CANCELLED;
      state.cancelReason = p?.reason ?? "";
      break;
    }
    case EventType.STEP_SCHEDULED: {
      const p = payload.case === "stepScheduled" ? payload.value : undefined;
      const step = stepOf(state, event.stepName);
      step.status = StepStatus.SCHEDULED;
      step.dependencies = p?.dependencies ?? [];
      break;
    }
    case EventType.STEP_STARTED: {
      const p = payload.case === "stepStarted" ? payload.value : undefined;
      const step = stepOf(state, event.stepName);
      step.status = StepStatus.RUNNING;
      const attempt = p?.attempt;
      step.attempts = attempt === undefined ? step.attempts + 1 : Math.max(step.attempts, attempt);
      step.startedAt = at;
      step.finishedAt = undefined;
      step.duration = undefined;
      if (p !== undefined && p.assignedTo.length > 0) step.assignedTo = p.assignedTo;
      break;
    }
    case EventType.STEP_COMPLETED: {
      const p = payload.case === "stepCompleted" ? payload.value : undefined;
      const step = stepOf(state, event.stepName);
      step.status = StepStatus.COMPLETED;
      step.output = event.output;
      step.finishedAt = at;
      step.duration = p?.duration ?? elapsed(step.startedAt, at);
      break;
    }
    case EventType.STEP_FAILED: {
      const p = payload.case === "stepFailed" ? payload.value : undefined;
      const step = stepOf(state, event.stepName);
      step.status = p?.willRetry === true ? StepStatus.RETRYING : StepStatus.FAILED;
      step.lastError = p?.error ?? "";
      if (p !== undefined && p.attempt > step.attempts) step.attempts = p.attempt;
      step.finishedAt = at;
      step.duration = p?.duration ?? elapsed(step.startedAt, at);
      break;
    }
    case EventType.STEP_SKIPPED: {
      const p = payload.case === "stepSkipped" ? payload.value : undefined;
      const step = stepOf(state, event.stepName);
      step.status = StepStatus.SKIPPED;
      step.skipReason = p?.reason ?? "";
      step.finishedAt = at;
      break;
    }
    case EventType.BRANCH_EVALUATED: {
      const p = payload.case === "branchEvaluated" ? payload.value : undefined;
      state.branches.push({
        stepName: event.stepName,
        branchName: p?.branchName ?? "",
        choice: p?.choice ?? "",
        sequence: event.sequence,
      });
      break;
    }
    case EventType.SIGNAL_WAITING: {
      const p = payload.case === "signalWaiting" ? payload.value : undefined;
      const signal = signalOf(state, p?.signalName ?? "");
      signal.status = SignalStatus.WAITING;
      signal.timeoutAt = p?.timeoutAt;
      signal.payload = undefined;
      signal.waitingSince = at;
      signal.resolvedAt = undefined;
      signal.stepName = event.stepName;
      break;
    }
    case EventType.SIGNAL_RECEIVED: {
      const p = payload.case === "signalReceived" ? payload.value : undefined;
      const signal = signalOf(state, p?.signalName ?? "");
      signal.status = SignalStatus.RECEIVED;
      signal.payload = p?.payload;
      signal.resolvedAt = at;
      break;
    }
    case EventType.SIGNAL_TIMEOUT: {
      const p = payload.case === "signalTimeout" ? payload.value : undefined;
      const signal = signalOf(state, p?.signalName ?? "");
      signal.status = SignalStatus.TIMED_OUT;
      signal.resolvedAt = at;
      break;
    }
    case EventType.CHILD_SPAWNED: {
      const p = payload.case === "childSpawned" ? payload.value : undefined;
      const child = childOf(state, p?.childRunId ?? "");
      child.workflowName = p?.workflowName ?? "";
      child.input = p?.input;
      child.status = ChildStatus.RUNNING;
      child.output = undefined;
      child.error = "";
      child.stepName = event.stepName;
      break;
    }
    case EventType.CHILD_COMPLETED: {
      const p = payload.case === "childCompleted" ? payload.value : undefined;
      const child = childOf(state, p?.childRunId ?? "");
      child.status = ChildStatus.COMPLETED;
      child.output = p?.output ?? event.output;
      break;
    }
    case EventType.CHILD_FAILED: {
      const p = payload.case === "childFailed" ? payload.value : undefined;
      const child = childOf(state, p?.childRunId ?? "");
      child.status = ChildStatus.FAILED;
      child.error = p?.error ?? "";
      break;
    }
    case EventType.MAP_STARTED: {
      const p = payload.case === "mapStarted" ? payload.value : undefined;
      const map = mapOf(state, event.stepName);
      map.itemCount = p?.itemCount ?? 0;
      map.status = ChildStatus.RUNNING;
      map.results = undefined;
      map.failedIndex = 0;
      map.error = "";
      break;
    }
    case EventType.MAP_COMPLETED: {
      const p = payload.case === "mapCompleted" ? payload.value : undefined;
      const map = mapOf(state, event.stepName);
      map.status = ChildStatus.COMPLETED;
      map.results = p?.results ?? event.output;
      break;
    }
    case EventType.MAP_FAILED: {
      const p = payload.case === "mapFailed" ? payload.value : undefined;
      const map = mapOf(state, event.stepName);
      map.status = ChildStatus.FAILED;
      map.failedIndex = p?.failedIndex ?? 0;
      map.error = p?.error ?? "";
      break;
    }
    case EventType.COMPENSATION_STARTED: {
      const p = payload.case === "compensationStarted" ? payload.value : undefined;
      state.compensation = {
        status: CompensationStatus.RUNNING,
        triggerStep: p?.triggerStep ?? "",
        stepsToUndo: p?.stepsToUndo ?? [],
        stepsCompensated: [],
        failedStep: "",
        error: "",
      };
      break;
    }
    case EventType.COMPENSATION_COMPLETED: {
      const p = payload.case === "compensationCompleted" ? payload.value : undefined;
      const compensation = compensationOf(state);
      compensation.status = CompensationStatus.COMPLETED;
      const names = p?.stepsCompensated ?? [];
      if (names.length > 0) {
        compensation.stepsCompensated = compensation.stepsCompensated.concat(names);
        for (const name of names) {
          const step = state.steps.get(name);
          if (step !== undefined && step.status !== StepStatus.RUNNING) step.status = StepStatus.COMPENSATED;
        }
      }
      break;
    }
    case EventType.COMPENSATION_FAILED: {
      const p = payload.case === "compensationFailed" ? payload.value : undefined;
      const compensation = compensationOf(state);
      compensation.status = CompensationStatus.FAILED;
      compensation.failedStep = p?.failedStep ?? "";
      compensation.error = p?.error ?? "";
      break;
    }
    case EventType.CONTEXT_UPDATED: {
      const p = payload.case === "contextUpdated" ? payload.value : undefined;
      state.context.set(p?.key ?? "", p?.value ?? jsonNull());
      break;
    }
    case EventType.SNAPSHOT:
      state.snapshotEventCount++;
      break;
    case EventType.CUSTOM:
      state.customEventCount++;
      break;
    case EventType.UNSPECIFIED:
      // Unreachable: eventTypeOf resolves UNSPECIFIED from the payload.
      break;
    default: {
      // A new EventType value must get a case above.
      const unhandled: never = type;
      void unhandled;
    }
  }
  state.eventCount++;
  state.firstEventAt ??= at;
  state.lastEventAt = at;
  state.lastSequence = event.sequence;
  return state;
}

function stepOf(state: RunModel, name: string): StepModel {
  let step = state.steps.get(name);
  if (step === undefined) {
    step = {
      name,
      status: StepStatus.UNSPECIFIED,
      attempts: 0,
      lastError: "",
      output: undefined,
      duration: undefined,
      startedAt: undefined,
      finishedAt: undefined,
      dependencies: [],
      assignedTo: [],
      skipReason: "",
    };
    state.steps.set(name, step);
  }
  return step;
}

function signalOf(state: RunModel, name: string): SignalModel {
  let signal = state.signals.get(name);
  if (signal === undefined) {
    signal = {
      name,
      status: SignalStatus.UNSPECIFIED,
      timeoutAt: undefined,
      payload: undefined,
      waitingSince: undefined,
      resolvedAt: undefined,
      stepName: "",
    };
    state.signals.set(name, signal);
  }
  return signal;
}

function childOf(state: RunModel, childRunId: string): ChildModel {
  let child = state.children.get(childRunId);
  if (child === undefined) {
    child = {
      childRunId,
      workflowName: "",
      input: undefined,
      status: ChildStatus.UNSPECIFIED,
      output: undefined,
      error: "",
      stepName: "",
    };
    state.children.set(childRunId, child);
  }
  return child;
}

function mapOf(state: RunModel, stepName: string): MapModel {
  let map = state.maps.get(stepName);
  if (map === undefined) {
    map = { stepName, itemCount: 0, status: ChildStatus.UNSPECIFIED, results: undefined, failedIndex: 0, error: "" };
    state.maps.set(stepName, map);
  }
  return map;
}

function compensationOf(state: RunModel): NonNullable<RunModel["compensation"]> {
  return (state.compensation ??= {
    status: CompensationStatus.UNSPECIFIED,
    triggerStep: "",
    stepsToUndo: [],
    stepsCompensated: [],
    failedStep: "",
    error: "",
  });
}

/** to − from, or undefined when either is missing or the interval is negative. */
function elapsed(from: Timestamp | undefined, to: Timestamp | undefined): Duration | undefined {
  if (from === undefined || to === undefined) return undefined;
  let seconds = to.seconds - from.seconds;
  let nanos = to.nanos - from.nanos;
  if (nanos < 0) {
    seconds -= 1n;
    nanos += 1_000_000_000;
  }
  if (seconds < 0n) return undefined;
  // A literal, not create(): once per completed step on the append path.
  return { $typeName: "google.protobuf.Duration", seconds, nanos };
}

function jsonNull(): Value {
  return create(ValueSchema, { kind: { case: "nullValue", value: NullValue.NULL_VALUE } });
}
