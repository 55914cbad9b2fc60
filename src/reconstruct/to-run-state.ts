// The protobuf RunState of a working state, built once at the end of a fold.
// Containers (lists, the context map, entry messages) are fresh; Values,
// Timestamps and Durations are shared with the events they came from: treat the
// result as read-only.
import { create } from "@bufbuild/protobuf";
import type { Value } from "@bufbuild/protobuf/wkt";
import {
  ChildRunSchema,
  CompensationStateSchema,
  MapStateSchema,
  RunStateSchema,
  SignalStateSchema,
  type BranchChoice,
  type ChildRun,
  type MapState,
  type RunState,
  type SignalState,
  type StepState,
} from "../../gen/runlog/v1/run_state_pb.js";
import type { RunModel } from "./run-model.js";

export function toRunState(model: RunModel): RunState {
  // Steps and branches grow with the run and are built for every snapshot on the
  // append path: object literals with every field, as create() would make them
  // (message fields only when set), without create()'s walk of the schema.
  const steps: StepState[] = [];
  for (const s of model.steps.values()) {
    const step: StepState = {
      $typeName: "runlog.v1.StepState",
      name: s.name,
      status: s.status,
      attempts: s.attempts,
      lastError: s.lastError,
      dependencies: s.dependencies.slice(),
      assignedTo: s.assignedTo.slice(),
      skipReason: s.skipReason,
    };
    if (s.output !== undefined) step.output = s.output;
    if (s.duration !== undefined) step.duration = s.duration;
    if (s.startedAt !== undefined) step.startedAt = s.startedAt;
    if (s.finishedAt !== undefined) step.finishedAt = s.finishedAt;
    steps.push(step);
  }
  const branches: BranchChoice[] = model.branches.map((b) => ({
    $typeName: "runlog.v1.BranchChoice",
    stepName: b.stepName,
    branchName: b.branchName,
    choice: b.choice,
    sequence: b.sequence,
  }));
  const signals: SignalState[] = [];
  for (const s of model.signals.values()) {
    signals.push(
      create(SignalStateSchema, {
        name: s.name,
        status: s.status,
        timeoutAt: s.timeoutAt,
        payload: s.payload,
        waitingSince: s.waitingSince,
        resolvedAt: s.resolvedAt,
        stepName: s.stepName,
      }),
    );
  }
  const children: ChildRun[] = [];
  for (const c of model.children.values()) {
    children.push(
      create(ChildRunSchema, {
        childRunId: c.childRunId,
        workflowName: c.workflowName,
        input: c.input,
        status: c.status,
        output: c.output,
        error: c.error,
        stepName: c.stepName,
      }),
    );
  }
  const maps: MapState[] = [];
  for (const m of model.maps.values()) {
    maps.push(
      create(MapStateSchema, {
        stepName: m.stepName,
        itemCount: m.itemCount,
        status: m.status,
        results: m.results,
        failedIndex: m.failedIndex,
        error: m.error,
      }),
    );
  }
  const c = model.compensation;
  return create(RunStateSchema, {
    runId: model.runId,
    workflowName: model.workflowName,
    workflowVersion: model.workflowVersion,
    input: model.input,
    status: model.track.status,
    output: model.output,
    error: model.error,
    failedStep: model.failedStep,
    recoverable: model.recoverable,
    cancelReason: model.cancelReason,
    steps,
    branches,
    signals,
    children,
    maps,
    compensation:
      c === undefined
        ? undefined
        : create(CompensationStateSchema, {
            status: c.status,
            triggerStep: c.triggerStep,
            stepsToUndo: c.stepsToUndo.slice(),
            stepsCompensated: c.stepsCompensated.slice(),
            failedStep: c.failedStep,
            error: c.error,
          }),
    context: contextObject(model.context),
    eventCount: BigInt(model.eventCount),
    customEventCount: BigInt(model.customEventCount),
    snapshotEventCount: BigInt(model.snapshotEventCount),
    firstEventAt: model.firstEventAt,
    lastEventAt: model.lastEventAt,
    lastSequence: model.lastSequence,
  });
}

/** A plain object for the proto map; keys such as "__proto__" become own properties. */
function contextObject(context: Map<string, Value>): { [key: string]: Value } {
  const object: { [key: string]: Value } = {};
  for (const [key, value] of context) {
    if (key === "__proto__") Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
    else object[key] = value;
  }
  return object;
}
