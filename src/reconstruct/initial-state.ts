// The state of a run before any event: the start of the fold.
import { EventType } from "../../gen/runlog/v1/event_pb.js";
import { initialRunStatus } from "../events/run-status.js";
import type { RunModel } from "./run-model.js";

export function initialRunState(runId: string): RunModel {
  return {
    runId,
    workflowName: "",
    workflowVersion: 0,
    input: undefined,
    track: initialRunStatus(),
    output: undefined,
    error: "",
    failedStep: "",
    recoverable: false,
    cancelReason: "",
    steps: new Map(),
    branches: [],
    signals: new Map(),
    children: new Map(),
    maps: new Map(),
    compensation: undefined,
    context: new Map(),
    eventCount: 0,
    customEventCount: 0,
    snapshotEventCount: 0,
    firstEventAt: undefined,
    lastEventAt: undefined,
    lastSequence: 0n,
    started: false,
    ended: EventType.UNSPECIFIED,
  };
}
