// Snapshots of a run's working state: runlog.v1.RunState in protobuf binary,
// plus the reducer-private facts the fold needs to continue exactly where it
// stopped but that RunState does not show:
//   - whether workflow.started was seen (RunState cannot tell an unstarted run
//     whose history is only custom events from one whose start had no name);
//   - which terminal event was seen (after workflow.failed a saga may still
//     compensate, which moves status to COMPENSATING…, hiding the failure);
//   - the number of signals awaited and not resolved (trackRunStatus counts
//     signal.waiting events, which need not match the per-name signal list).
// They travel as fields numbered 10001–10004, which RunState does not define: any
// RunState decoder reads the bytes and skips them as unknown fields. Snapshot +
// tail therefore equals a full replay for every history, valid or not.
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { EventType } from "../../gen/runlog/v1/event_pb.js";
import { RunStateSchema, type RunState } from "../../gen/runlog/v1/run_state_pb.js";
import { codecFor } from "../codec/codec.js";
import type { ChildModel, MapModel, RunEnd, RunModel, SignalModel, StepModel } from "./run-model.js";
import { toRunState } from "./to-run-state.js";

const fieldFormat = 10001;
const fieldStarted = 10002;
const fieldEnded = 10003;
const fieldWaitingSignals = 10004;
/** The layout of the private fields; a snapshot without it was not written by this codec. */
const format = 1;

/** Snapshots are written on the append path (every N events of a run): the compiled codec. */
const runStateCodec = codecFor(RunStateSchema);

/** A snapshot that cannot be used; the reconstructor falls back to a full replay. */
export class CorruptSnapshotError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CorruptSnapshotError";
  }
}

export function encodeSnapshot(model: RunModel): Uint8Array {
  const state = toRunState(model);
  state.$unknown = [
    varintField(fieldFormat, format),
    varintField(fieldStarted, model.started ? 1 : 0),
    varintField(fieldEnded, model.ended),
    varintField(fieldWaitingSignals, model.track.waitingSignals),
  ];
  return runStateCodec.encode(state);
}

/**
 * The working state a snapshot holds. Throws CorruptSnapshotError when the bytes
 * do not decode, were not written by this codec, or disagree with the run ID and
 * sequence the snapshot is stored under.
 */
export function decodeSnapshot(bytes: Uint8Array, runId: string, sequence: bigint): RunModel {
  let state: RunState;
  try {
    state = runStateCodec.decode(bytes);
  } catch (cause) {
    throw new CorruptSnapshotError("snapshot does not decode as runlog.v1.RunState", { cause });
  }
  if (state.runId !== runId) {
    throw new CorruptSnapshotError(`snapshot is of run ${JSON.stringify(state.runId)}, stored under ${JSON.stringify(runId)}`);
  }
  if (state.lastSequence !== sequence) {
    throw new CorruptSnapshotError(`snapshot is after sequence ${state.lastSequence}, stored under ${sequence}`);
  }
  const facts = new Map<number, number>();
  for (const field of state.$unknown ?? []) {
    if (field.no >= fieldFormat && field.no <= fieldWaitingSignals && field.wireType === WireType.Varint) {
      facts.set(field.no, new BinaryReader(field.data).uint32());
    }
  }
  if (facts.get(fieldFormat) !== format) throw new CorruptSnapshotError("snapshot lacks the reducer's private fields");
  const started = facts.get(fieldStarted) ?? 0;
  const ended = facts.get(fieldEnded) ?? 0;
  if (started > 1 || !isRunEnd(ended)) throw new CorruptSnapshotError("snapshot has invalid private fields");
  return fromRunState(state, started === 1, ended, facts.get(fieldWaitingSignals) ?? 0);
}

function fromRunState(state: RunState, started: boolean, ended: RunEnd, waitingSignals: number): RunModel {
  const steps = new Map<string, StepModel>();
  for (const s of state.steps) {
    unique(steps, s.name, "step");
    steps.set(s.name, {
      name: s.name,
      status: s.status,
      attempts: s.attempts,
      lastError: s.lastError,
      output: s.output,
      duration: s.duration,
      startedAt: s.startedAt,
      finishedAt: s.finishedAt,
      dependencies: s.dependencies,
      assignedTo: s.assignedTo,
      skipReason: s.skipReason,
    });
  }
  const signals = new Map<string, SignalModel>();
  for (const s of state.signals) {
    unique(signals, s.name, "signal");
    signals.set(s.name, {
      name: s.name,
      status: s.status,
      timeoutAt: s.timeoutAt,
      payload: s.payload,
      waitingSince: s.waitingSince,
      resolvedAt: s.resolvedAt,
      stepName: s.stepName,
    });
  }
  const children = new Map<string, ChildModel>();
  for (const c of state.children) {
    unique(children, c.childRunId, "child run");
    children.set(c.childRunId, {
      childRunId: c.childRunId,
      workflowName: c.workflowName,
      input: c.input,
      status: c.status,
      output: c.output,
      error: c.error,
      stepName: c.stepName,
    });
  }
  const maps = new Map<string, MapModel>();
  for (const m of state.maps) {
    unique(maps, m.stepName, "map");
    maps.set(m.stepName, {
      stepName: m.stepName,
      itemCount: m.itemCount,
      status: m.status,
      results: m.results,
      failedIndex: m.failedIndex,
      error: m.error,
    });
  }
  const c = state.compensation;
  return {
    runId: state.runId,
    workflowName: state.workflowName,
    workflowVersion: state.workflowVersion,
    input: state.input,
    track: { status: state.status, waitingSignals },
    output: state.output,
    error: state.error,
    failedStep: state.failedStep,
    recoverable: state.recoverable,
    cancelReason: state.cancelReason,
    steps,
    branches: state.branches.map((b) => ({
      stepName: b.stepName,
      branchName: b.branchName,
      choice: b.choice,
      sequence: b.sequence,
    })),
    signals,
    children,
    maps,
    compensation:
      c === undefined
        ? undefined
        : {
            status: c.status,
            triggerStep: c.triggerStep,
            stepsToUndo: c.stepsToUndo,
            stepsCompensated: c.stepsCompensated,
            failedStep: c.failedStep,
            error: c.error,
          },
    context: new Map(Object.entries(state.context)),
    eventCount: Number(state.eventCount),
    customEventCount: Number(state.customEventCount),
    snapshotEventCount: Number(state.snapshotEventCount),
    firstEventAt: state.firstEventAt,
    lastEventAt: state.lastEventAt,
    lastSequence: state.lastSequence,
    started,
    ended,
  };
}

function varintField(no: number, value: number): { no: number; wireType: WireType; data: Uint8Array } {
  return { no, wireType: WireType.Varint, data: new BinaryWriter().uint32(value).finish() };
}

function isRunEnd(value: number): value is RunEnd {
  return (
    value === EventType.UNSPECIFIED ||
    value === EventType.WORKFLOW_COMPLETED ||
    value === EventType.WORKFLOW_FAILED ||
    value === EventType.WORKFLOW_CANCELLED
  );
}

function unique(entries: Map<string, unknown>, key: string, what: string): void {
  if (entries.has(key)) throw new CorruptSnapshotError(`snapshot lists ${what} ${JSON.stringify(key)} twice`);
}
