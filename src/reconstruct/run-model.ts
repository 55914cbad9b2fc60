// The reducer's working form of a run: plain mutable objects and Maps keyed the
// way events address them (steps by name, signals by name, children by run ID,
// maps by step). evolve() mutates it cheaply per event; toRunState() builds the
// protobuf RunState once at the end.
//
// Ownership: sub-messages taken from events (Values, Timestamps, Durations) and
// string arrays are shared, never mutated; every change replaces the reference.
// Step, signal, child, map and compensation entries are owned and mutated in place,
// which is why cloneRunModel copies them.
import type { Duration, Timestamp, Value } from "@bufbuild/protobuf/wkt";
import { EventType } from "../../gen/runlog/v1/event_pb.js";
import type { ChildStatus, CompensationStatus, SignalStatus, StepStatus } from "../../gen/runlog/v1/run_state_pb.js";
import type { RunStatusTrack } from "../events/run-status.js";

/** The terminal event a run has seen, if any. */
export type RunEnd =
  | EventType.UNSPECIFIED
  | EventType.WORKFLOW_COMPLETED
  | EventType.WORKFLOW_FAILED
  | EventType.WORKFLOW_CANCELLED;

export interface StepModel {
  readonly name: string;
  status: StepStatus;
  attempts: number;
  lastError: string;
  output: Value | undefined;
  duration: Duration | undefined;
  startedAt: Timestamp | undefined;
  finishedAt: Timestamp | undefined;
  dependencies: readonly string[];
  assignedTo: readonly string[];
  skipReason: string;
}

export interface BranchModel {
  readonly stepName: string;
  readonly branchName: string;
  readonly choice: string;
  readonly sequence: bigint;
}

export interface SignalModel {
  readonly name: string;
  status: SignalStatus;
  timeoutAt: Timestamp | undefined;
  payload: Value | undefined;
  waitingSince: Timestamp | undefined;
  resolvedAt: Timestamp | undefined;
  stepName: string;
}

export interface ChildModel {
  readonly childRunId: string;
  workflowName: string;
  input: Value | undefined;
  status: ChildStatus;
  output: Value | undefined;
  error: string;
  stepName: string;
}

export interface MapModel {
  readonly stepName: string;
  itemCount: number;
  status: ChildStatus;
  results: Value | undefined;
  failedIndex: number;
  error: string;
}

export interface CompensationModel {
  status: CompensationStatus;
  triggerStep: string;
  stepsToUndo: readonly string[];
  stepsCompensated: readonly string[];
  failedStep: string;
  error: string;
}

export interface RunModel {
  readonly runId: string;
  workflowName: string;
  workflowVersion: number;
  input: Value | undefined;
  /** RunState.status, moved by trackRunStatus (shared with the stores' run summaries). */
  readonly track: RunStatusTrack;
  output: Value | undefined;
  error: string;
  failedStep: string;
  recoverable: boolean;
  cancelReason: string;
  /** In first-seen order (Map preserves insertion order). */
  readonly steps: Map<string, StepModel>;
  readonly branches: BranchModel[];
  /** In the order each signal was first awaited. */
  readonly signals: Map<string, SignalModel>;
  readonly children: Map<string, ChildModel>;
  readonly maps: Map<string, MapModel>;
  compensation: CompensationModel | undefined;
  readonly context: Map<string, Value>;
  /** Counts as numbers while folding (cheaper than bigint); RunState gets bigints. */
  eventCount: number;
  customEventCount: number;
  snapshotEventCount: number;
  firstEventAt: Timestamp | undefined;
  lastEventAt: Timestamp | undefined;
  lastSequence: bigint;
  // Reducer-private facts, not in RunState but kept in snapshots (snapshot-codec.ts).
  /** workflow.started was seen. */
  started: boolean;
  /** The terminal event seen (UNSPECIFIED: none). */
  ended: RunEnd;
}

/** A deep copy of the owned parts; shared immutable sub-messages stay shared. */
export function cloneRunModel(model: RunModel): RunModel {
  return {
    ...model,
    track: { ...model.track },
    steps: copyEntries(model.steps),
    branches: model.branches.slice(),
    signals: copyEntries(model.signals),
    children: copyEntries(model.children),
    maps: copyEntries(model.maps),
    compensation: model.compensation === undefined ? undefined : { ...model.compensation },
    context: new Map(model.context),
  };
}

function copyEntries<T extends object>(source: Map<string, T>): Map<string, T> {
  const copy = new Map<string, T>();
  for (const [key, value] of source) copy.set(key, { ...value });
  return copy;
}
