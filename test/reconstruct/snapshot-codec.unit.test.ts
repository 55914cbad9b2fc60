import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { describe, expect, it } from "vitest";
import { EventType } from "../../gen/runlog/v1/event_pb.js";
import { RunStateSchema, StepStateSchema } from "../../gen/runlog/v1/run_state_pb.js";
import { evolve } from "../../src/reconstruct/evolve.js";
import { initialRunState } from "../../src/reconstruct/initial-state.js";
import { CorruptSnapshotError, decodeSnapshot, encodeSnapshot } from "../../src/reconstruct/snapshot-codec.js";
import { toRunState } from "../../src/reconstruct/to-run-state.js";
import * as b from "../support/events.js";
import { expectSameBytes, expectSameState, numbered, replay } from "./helpers.js";

const run = "run-s";

function richHistory() {
  return numbered([
    b.customEvent(run),
    b.workflowStarted(run, { workflowName: "w", version: 2, input: { a: [1, 2] } }),
    b.stepScheduled(run, { dependencies: ["x"] }, { stepName: "s" }),
    b.stepStarted(run, { assignedTo: ["u"] }, { stepName: "s" }),
    b.stepFailed(run, { error: "e", willRetry: true }, { stepName: "s" }),
    b.branchEvaluated(run, { branchName: "br", choice: "c" }, { stepName: "s" }),
    b.signalWaiting(run, { signalName: "sig" }),
    b.signalWaiting(run, { signalName: "other" }),
    b.signalReceived(run, { signalName: "sig", payload: { ok: true } }),
    b.childSpawned(run, { childRunId: "c1", input: 1 }),
    b.mapStarted(run, { itemCount: 2 }, { stepName: "m" }),
    b.contextUpdated(run, { key: "__proto__", value: 1 }),
    b.contextUpdated(run, { key: "7", value: 2 }),
    b.snapshotEvent(run),
    b.compensationStarted(run, { triggerStep: "s", stepsToUndo: ["s"] }),
    b.workflowFailed(run, { error: "boom", failedStep: "s", recoverable: true }),
  ]);
}

describe("snapshot codec", () => {
  it("round-trips a working state exactly, private facts included", () => {
    const model = replay(run, richHistory());
    const bytes = encodeSnapshot(model);
    const restored = decodeSnapshot(bytes, run, model.lastSequence);
    expectSameState(toRunState(restored), toRunState(model));
    expect(restored.started).toBe(true);
    expect(restored.ended).toBe(EventType.WORKFLOW_FAILED);
    expect(restored.track).toEqual(model.track);
    expectSameBytes(encodeSnapshot(restored), bytes);
  });

  it("round-trips the initial state and an unstarted run of custom events", () => {
    const empty = initialRunState(run);
    expectSameState(toRunState(decodeSnapshot(encodeSnapshot(empty), run, 0n)), toRunState(empty));
    const custom = replay(run, numbered([b.customEvent(run), b.customEvent(run)]));
    const restored = decodeSnapshot(encodeSnapshot(custom), run, 2n);
    expect(restored.started).toBe(false);
  });

  it("is a RunState to any protobuf reader (the private fields are unknown fields)", () => {
    const model = replay(run, richHistory());
    const state = fromBinary(RunStateSchema, encodeSnapshot(model), { readUnknownFields: false });
    expect(state.runId).toBe(run);
    expect(toBinary(RunStateSchema, state)).toEqual(toBinary(RunStateSchema, toRunState(model)));
  });

  it("keeps what RunState cannot show: a failure hidden by the rollback after it", () => {
    // fail then compensate: status COMPENSATED, but the run has ended (only compensation may follow).
    const model = replay(
      run,
      numbered([b.workflowStarted(run), b.workflowFailed(run, { error: "" }), b.compensationStarted(run), b.compensationCompleted(run)]),
    );
    const restored = decodeSnapshot(encodeSnapshot(model), run, 4n);
    expect(restored.ended).toBe(EventType.WORKFLOW_FAILED);
  });

  it("keeps the waiting-signal count even when it disagrees with the signal list (an invalid history)", () => {
    const events = numbered([b.workflowStarted(run), b.signalWaiting(run), b.signalWaiting(run), b.signalReceived(run)]);
    const model = replay(run, events.slice(0, 3));
    const restored = decodeSnapshot(encodeSnapshot(model), run, 3n);
    evolve(restored, events[3]!);
    expectSameState(toRunState(restored), toRunState(replay(run, events)));
  });

  describe("rejects as corrupt", () => {
    const model = () => replay(run, richHistory());
    const corrupt = (bytes: Uint8Array, runId = run, sequence = 16n) => () => decodeSnapshot(bytes, runId, sequence);

    it("bytes that do not decode", () => {
      expect(corrupt(new Uint8Array([0xff, 0xff, 0xff, 0xff]))).toThrow(CorruptSnapshotError);
      const bytes = encodeSnapshot(model());
      expect(corrupt(bytes.subarray(0, bytes.length - 3))).toThrow(CorruptSnapshotError);
    });

    it("another run's state", () => {
      expect(corrupt(encodeSnapshot(model()), "other-run")).toThrow(/of run "run-s"/);
    });

    it("a state after another sequence", () => {
      expect(corrupt(encodeSnapshot(model()), run, 15n)).toThrow(/after sequence 16/);
    });

    it("a plain RunState without the reducer's private fields", () => {
      expect(corrupt(toBinary(RunStateSchema, toRunState(model())))).toThrow(/private fields/);
    });

    it("private fields with impossible values", () => {
      const withFacts = (started: number, ended: number) => {
        const state = toRunState(model());
        const field = (no: number, value: number) => ({ no, wireType: WireType.Varint, data: new BinaryWriter().uint32(value).finish() });
        state.$unknown = [field(10001, 1), field(10002, started), field(10003, ended)];
        return toBinary(RunStateSchema, state);
      };
      expect(corrupt(withFacts(2, 0))).toThrow(/invalid private fields/);
      expect(corrupt(withFacts(1, EventType.STEP_STARTED))).toThrow(/invalid private fields/);
      expect(() => decodeSnapshot(withFacts(1, EventType.WORKFLOW_CANCELLED), run, 16n)).not.toThrow();
    });

    it("a step listed twice", () => {
      const state = toRunState(model());
      state.steps.push(create(StepStateSchema, { name: state.steps[0]!.name }));
      const good = encodeSnapshot(model());
      const facts = fromBinary(RunStateSchema, good).$unknown;
      state.$unknown = facts;
      expect(corrupt(toBinary(RunStateSchema, state))).toThrow(/step "s" twice/);
    });
  });
});
