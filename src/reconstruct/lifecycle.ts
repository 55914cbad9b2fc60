// Lifecycle rules: which histories the workflow state machine can have.
// checkLifecycle() checks one new event against the run's current working state
// and throws LifecycleViolationError naming the rule (FAILED_PRECONDITION).
// The table below is the documented one (docs/lifecycle-rules.md); the rule
// names are part of the API (clients see them in the error detail).
//
// Decisions:
//   - custom and snapshot events are allowed anywhere before the run ends, also
//     before workflow.started: a run may hold only custom events (S2 entities
//     keep their domain events as custom events in a run with no workflow.started).
//   - completed and cancelled end a run for good: nothing may follow.
//   - failed ends a run except for its saga rollback: sagas either compensate and
//     then fail (compensation.* while running, then workflow.failed) or fail and then
//     compensate (workflow.failed, then compensation.started → .completed/.failed).
//     Both are valid; after workflow.failed only compensation.* events may follow,
//     under the compensation rules (one compensation per run).
//   - a step may start again at any time (retry, crash recovery, a loop back to an
//     earlier step); it may only complete or fail while running.
import { EventType, type Event } from "../../gen/runlog/v1/event_pb.js";
import { ChildStatus, CompensationStatus, SignalStatus, StepStatus } from "../../gen/runlog/v1/run_state_pb.js";
import { LifecycleViolationError } from "../errors.js";
import { eventTypeName } from "../events/catalog.js";
import type { RunModel } from "./run-model.js";

export interface LifecycleRule {
  /** Stable kebab-case name, reported in LifecycleViolationError.rule. */
  readonly name: string;
  /** The events the rule rejects. */
  readonly rejects: string;
  /** Why such a history cannot happen. */
  readonly why: string;
  /** The systems whose state machine the rule comes from. */
  readonly source: string;
}

function rule(name: string, rejects: string, why: string, source: string): LifecycleRule {
  return { name, rejects, why, source };
}

export const lifecycleRules = {
  firstEventIsWorkflowStarted: rule(
    "first-event-is-workflow-started",
    "any workflow event (not custom or snapshot) before the run's workflow.started",
    "a run exists from its workflow.started; steps, signals, children… of a run that never started are orphans. " +
      "custom and snapshot events may come first, so runs of pure domain events (S2) stay possible",
    "Skene, Nika, glyph (every history starts with workflow started)",
  ),
  workflowStartedOnce: rule(
    "workflow-started-once",
    "a second workflow.started in a run",
    "a run is one execution of one workflow; restarting it means a new run",
    "Skene, Nika, glyph",
  ),
  noEventAfterTerminal: rule(
    "no-event-after-terminal",
    "any event after workflow.completed or workflow.cancelled; any event but compensation.* after workflow.failed",
    "a finished run's history is closed; only a saga's rollback may follow a failure",
    "Skene (ARCHITECTURE §4), glyph, Nika",
  ),
  eventKeyRequired: rule(
    "event-key-required",
    "step.* and map.* without step_name; signal.* without signal_name; child.* without child_run_id; " +
      "context.updated without key",
    "the run's state keys these entries by that name; an empty one cannot be told apart from another",
    "Skene (StepName), glyph (step_id, key), Nika (task_id)",
  ),
  stepCompletedNeedsStarted: rule(
    "step-completed-needs-started",
    "step.completed for a step that is not running (never started, already finished, or awaiting a retry)",
    "only an attempt in progress can complete",
    "Skene, Nika (task_started → task_completed), glyph (step_activated → step_completed)",
  ),
  stepFailedNeedsStarted: rule(
    "step-failed-needs-started",
    "step.failed for a step that is not running",
    "only an attempt in progress can fail",
    "Skene, Nika, glyph",
  ),
  stepScheduledNotRunning: rule(
    "step-scheduled-not-running",
    "step.scheduled for a step that is running",
    "a running step is past scheduling; it must complete or fail before it can be scheduled again",
    "Nika (task_scheduled → task_started)",
  ),
  stepSkippedNotRunning: rule(
    "step-skipped-not-running",
    "step.skipped for a step that is running",
    "a step in progress must complete or fail; skipping is decided instead of running it",
    "glyph (step_skipped)",
  ),
  signalNotAlreadyWaiting: rule(
    "signal-not-already-waiting",
    "signal.waiting for a signal the run is already waiting for",
    "a run waits for a signal once until it is received or times out",
    "Skene",
  ),
  signalReceivedNeedsWaiting: rule(
    "signal-received-needs-waiting",
    "signal.received for a signal the run is not waiting for",
    "a signal is recorded when it resolves a wait (ARCHITECTURE §4)",
    "Skene",
  ),
  signalTimeoutNeedsWaiting: rule(
    "signal-timeout-needs-waiting",
    "signal.timeout for a signal the run is not waiting for",
    "only a pending wait can time out",
    "Skene",
  ),
  childSpawnedOnce: rule(
    "child-spawned-once",
    "child.spawned with a child_run_id this run already spawned",
    "a child run ID names one run; spawning it again would mix two histories",
    "Skene",
  ),
  childCompletedNeedsSpawned: rule(
    "child-completed-needs-spawned",
    "child.completed for a child that was not spawned or has already finished",
    "only a running child can complete",
    "Skene",
  ),
  childFailedNeedsSpawned: rule(
    "child-failed-needs-spawned",
    "child.failed for a child that was not spawned or has already finished",
    "only a running child can fail",
    "Skene",
  ),
  mapStartedNotRunning: rule(
    "map-started-not-running",
    "map.started for a step whose map is running",
    "a step fans out once at a time; it may map again after the previous fan-out ended",
    "Skene",
  ),
  mapCompletedNeedsStarted: rule(
    "map-completed-needs-started",
    "map.completed for a step with no running map",
    "only a running fan-out can complete",
    "Skene",
  ),
  mapFailedNeedsStarted: rule(
    "map-failed-needs-started",
    "map.failed for a step with no running map",
    "only a running fan-out can fail",
    "Skene",
  ),
  compensationStartedOnce: rule(
    "compensation-started-once",
    "compensation.started in a run that has already started compensating",
    "a run rolls back once (Skene's compensation.started lists every step to undo)",
    "Skene",
  ),
  compensationCompletedNeedsStarted: rule(
    "compensation-completed-needs-started",
    "compensation.completed when no compensation is running",
    "only a running rollback can complete",
    "Skene",
  ),
  compensationFailedNeedsStarted: rule(
    "compensation-failed-needs-started",
    "compensation.failed when no compensation is running",
    "only a running rollback can fail",
    "Skene",
  ),
} as const satisfies Record<string, LifecycleRule>;

/**
 * Checks one event against the run's working state (not changed), as the event
 * with this sequence. `type` is the event's resolved type.
 * Throws LifecycleViolationError naming the rule it breaks.
 */
export function checkLifecycle(state: RunModel, event: Event, type: EventType, sequence: bigint): void {
  // No closures here: this runs for every appended event, and the failure paths
  // (module functions below) build their messages only when they throw.
  const isCompensation =
    type === EventType.COMPENSATION_STARTED ||
    type === EventType.COMPENSATION_COMPLETED ||
    type === EventType.COMPENSATION_FAILED;
  if (state.ended !== EventType.UNSPECIFIED && !(state.ended === EventType.WORKFLOW_FAILED && isCompensation)) {
    const end = eventTypeName(state.ended);
    const allowed = state.ended === EventType.WORKFLOW_FAILED ? " (only compensation events may follow a failure)" : "";
    violate(state, sequence, lifecycleRules.noEventAfterTerminal, `${typeLabel(type)} after ${end}${allowed}`);
  }
  if (type === EventType.CUSTOM || type === EventType.SNAPSHOT) return;
  if (!state.started && type !== EventType.WORKFLOW_STARTED) {
    violate(state, sequence, lifecycleRules.firstEventIsWorkflowStarted, `${typeLabel(type)} before workflow.started`);
  }
  const payload = event.payload;
  const stepName = event.stepName;
  switch (type) {
    case EventType.WORKFLOW_STARTED:
      if (state.started) violate(state, sequence, lifecycleRules.workflowStartedOnce, "the run has already started");
      return;
    case EventType.WORKFLOW_COMPLETED:
    case EventType.WORKFLOW_FAILED:
    case EventType.WORKFLOW_CANCELLED:
    case EventType.BRANCH_EVALUATED:
      return;
    case EventType.STEP_STARTED:
      if (stepName === "") needStep(state, sequence, type);
      return;
    case EventType.STEP_SCHEDULED:
    case EventType.STEP_SKIPPED: {
      if (stepName === "") needStep(state, sequence, type);
      if (state.steps.get(stepName)?.status === StepStatus.RUNNING) {
        const r = type === EventType.STEP_SCHEDULED ? lifecycleRules.stepScheduledNotRunning : lifecycleRules.stepSkippedNotRunning;
        violate(state, sequence, r, `step ${JSON.stringify(stepName)} is running`);
      }
      return;
    }
    case EventType.STEP_COMPLETED:
    case EventType.STEP_FAILED: {
      if (stepName === "") needStep(state, sequence, type);
      const step = state.steps.get(stepName);
      if (step?.status !== StepStatus.RUNNING) {
        const r =
          type === EventType.STEP_COMPLETED ? lifecycleRules.stepCompletedNeedsStarted : lifecycleRules.stepFailedNeedsStarted;
        violate(state, sequence, r, `step ${JSON.stringify(stepName)} is ${step === undefined ? "unknown" : stepStatusName(step.status)}, not running`);
      }
      return;
    }
    case EventType.SIGNAL_WAITING:
    case EventType.SIGNAL_RECEIVED:
    case EventType.SIGNAL_TIMEOUT: {
      const name =
        payload.case === "signalWaiting" || payload.case === "signalReceived" || payload.case === "signalTimeout"
          ? payload.value.signalName
          : "";
      if (name === "") violate(state, sequence, lifecycleRules.eventKeyRequired, `${typeLabel(type)} needs a signal_name`);
      const waiting = state.signals.get(name)?.status === SignalStatus.WAITING;
      if (type === EventType.SIGNAL_WAITING) {
        if (waiting) violate(state, sequence, lifecycleRules.signalNotAlreadyWaiting, `the run is already waiting for signal ${JSON.stringify(name)}`);
      } else if (!waiting) {
        const r = type === EventType.SIGNAL_RECEIVED ? lifecycleRules.signalReceivedNeedsWaiting : lifecycleRules.signalTimeoutNeedsWaiting;
        violate(state, sequence, r, `the run is not waiting for signal ${JSON.stringify(name)}`);
      }
      return;
    }
    case EventType.CHILD_SPAWNED:
    case EventType.CHILD_COMPLETED:
    case EventType.CHILD_FAILED: {
      const id =
        payload.case === "childSpawned" || payload.case === "childCompleted" || payload.case === "childFailed"
          ? payload.value.childRunId
          : "";
      if (id === "") violate(state, sequence, lifecycleRules.eventKeyRequired, `${typeLabel(type)} needs a child_run_id`);
      const child = state.children.get(id);
      if (type === EventType.CHILD_SPAWNED) {
        if (child !== undefined) violate(state, sequence, lifecycleRules.childSpawnedOnce, `child run ${JSON.stringify(id)} was already spawned`);
      } else if (child?.status !== ChildStatus.RUNNING) {
        const r = type === EventType.CHILD_COMPLETED ? lifecycleRules.childCompletedNeedsSpawned : lifecycleRules.childFailedNeedsSpawned;
        violate(state, sequence, r, `child run ${JSON.stringify(id)} ${child === undefined ? "was never spawned" : "has already finished"}`);
      }
      return;
    }
    case EventType.MAP_STARTED:
    case EventType.MAP_COMPLETED:
    case EventType.MAP_FAILED: {
      if (stepName === "") needStep(state, sequence, type);
      const running = state.maps.get(stepName)?.status === ChildStatus.RUNNING;
      if (type === EventType.MAP_STARTED) {
        if (running) violate(state, sequence, lifecycleRules.mapStartedNotRunning, `step ${JSON.stringify(stepName)} is already mapping`);
      } else if (!running) {
        const r = type === EventType.MAP_COMPLETED ? lifecycleRules.mapCompletedNeedsStarted : lifecycleRules.mapFailedNeedsStarted;
        violate(state, sequence, r, `step ${JSON.stringify(stepName)} has no running map`);
      }
      return;
    }
    case EventType.COMPENSATION_STARTED:
    case EventType.COMPENSATION_COMPLETED:
    case EventType.COMPENSATION_FAILED: {
      const status = state.compensation?.status ?? CompensationStatus.UNSPECIFIED;
      if (type === EventType.COMPENSATION_STARTED) {
        if (status !== CompensationStatus.UNSPECIFIED) {
          violate(state, sequence, lifecycleRules.compensationStartedOnce, "the run has already started compensating");
        }
      } else if (status !== CompensationStatus.RUNNING) {
        const r =
          type === EventType.COMPENSATION_COMPLETED
            ? lifecycleRules.compensationCompletedNeedsStarted
            : lifecycleRules.compensationFailedNeedsStarted;
        violate(state, sequence, r, status === CompensationStatus.UNSPECIFIED ? "no compensation was started" : "the compensation has already ended");
      }
      return;
    }
    case EventType.CONTEXT_UPDATED:
      if ((payload.case === "contextUpdated" ? payload.value.key : "") === "") {
        violate(state, sequence, lifecycleRules.eventKeyRequired, "context.updated needs a key");
      }
      return;
    case EventType.UNSPECIFIED:
      // Resolved by the caller (eventTypeOf); custom and snapshot returned above.
      return;
    default: {
      const unhandled: never = type;
      void unhandled;
    }
  }
}

function violate(state: RunModel, sequence: bigint, rule: LifecycleRule, description: string): never {
  throw new LifecycleViolationError(rule.name, state.runId, sequence, description);
}

function needStep(state: RunModel, sequence: bigint, type: EventType): never {
  violate(state, sequence, lifecycleRules.eventKeyRequired, `${typeLabel(type)} needs a step_name`);
}

function typeLabel(type: EventType): string {
  return eventTypeName(type) ?? EventType[type] ?? String(type);
}

function stepStatusName(status: StepStatus): string {
  return (StepStatus[status] ?? String(status)).toLowerCase();
}
