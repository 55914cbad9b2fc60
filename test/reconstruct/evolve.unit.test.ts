import { create, toJson } from "@bufbuild/protobuf";
import { durationFromMs, timestampFromMs, ValueSchema } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { EventSchema, EventType } from "../../gen/runlog/v1/event_pb.js";
import { ChildStatus, CompensationStatus, RunStatus, SignalStatus, StepStatus } from "../../gen/runlog/v1/run_state_pb.js";
import { InvalidArgumentError } from "../../src/errors.js";
import { catalog, typeOfPayloadCase } from "../../src/events/catalog.js";
import { evolve } from "../../src/reconstruct/evolve.js";
import { initialRunState } from "../../src/reconstruct/initial-state.js";
import { cloneRunModel } from "../../src/reconstruct/run-model.js";
import { toRunState } from "../../src/reconstruct/to-run-state.js";
import * as b from "../support/events.js";
import { baseMs, numbered, stateOf } from "./helpers.js";

const run = "run-e";
const at = (seconds: number) => timestampFromMs(baseMs + seconds * 1000);
const json = (value: Parameters<typeof b.json>[0]) => b.json(value);
const started = () => b.workflowStarted(run, { workflowName: "order", version: 3, input: { id: 7 } });

describe("initialRunState", () => {
  it("is an empty, unstarted run", () => {
    const state = toRunState(initialRunState(run));
    expect(state.runId).toBe(run);
    expect(state.status).toBe(RunStatus.UNSPECIFIED);
    expect(state.eventCount).toBe(0n);
    expect(state.lastSequence).toBe(0n);
    expect(state.steps).toEqual([]);
    expect(state.compensation).toBeUndefined();
    expect(state.firstEventAt).toBeUndefined();
  });
});

describe("evolve: workflow events", () => {
  it("workflow.started sets name, version, input and RUNNING", () => {
    const s = stateOf(run, numbered([started()]));
    expect(s.workflowName).toBe("order");
    expect(s.workflowVersion).toBe(3);
    expect(s.input).toEqual(json({ id: 7 }));
    expect(s.status).toBe(RunStatus.RUNNING);
  });

  it("workflow.completed takes the payload's output, else Event.output", () => {
    const withPayload = stateOf(run, numbered([started(), b.workflowCompleted(run, { output: { a: 1 } }, { output: { b: 2 } })]));
    expect(withPayload.status).toBe(RunStatus.COMPLETED);
    expect(withPayload.output).toEqual(json({ a: 1 }));
    const withEnvelope = stateOf(run, numbered([started(), b.workflowCompleted(run, {}, { output: { b: 2 } })]));
    expect(withEnvelope.output).toEqual(json({ b: 2 }));
    expect(stateOf(run, numbered([started(), b.workflowCompleted(run)])).output).toBeUndefined();
  });

  it("workflow.failed sets error, failed step and recoverable", () => {
    const s = stateOf(run, numbered([started(), b.workflowFailed(run, { error: "no stock", failedStep: "reserve", recoverable: true })]));
    expect(s.status).toBe(RunStatus.FAILED);
    expect([s.error, s.failedStep, s.recoverable]).toEqual(["no stock", "reserve", true]);
  });

  it("workflow.cancelled sets the reason", () => {
    const s = stateOf(run, numbered([started(), b.workflowCancelled(run, { reason: "customer asked" })]));
    expect(s.status).toBe(RunStatus.CANCELLED);
    expect(s.cancelReason).toBe("customer asked");
  });
});

describe("evolve: steps", () => {
  it("step.scheduled creates a SCHEDULED step with its dependencies", () => {
    const s = stateOf(run, numbered([started(), b.stepScheduled(run, { dependencies: ["a", "b"] }, { stepName: "c" })]));
    expect(s.steps).toHaveLength(1);
    expect(s.steps[0]).toMatchObject({ name: "c", status: StepStatus.SCHEDULED, dependencies: ["a", "b"], attempts: 0 });
  });

  it("step.started runs the step, counts attempts and keeps assignees", () => {
    const s = stateOf(
      run,
      numbered([
        started(),
        b.stepScheduled(run, { dependencies: ["x"] }, { stepName: "review" }),
        b.stepStarted(run, { assignedTo: ["ana", "bo"] }, { stepName: "review" }),
      ]),
    );
    expect(s.steps[0]).toMatchObject({
      name: "review",
      status: StepStatus.RUNNING,
      attempts: 1,
      dependencies: ["x"],
      assignedTo: ["ana", "bo"],
      startedAt: at(3),
    });
  });

  it("attempts: the highest attempt named, or one more per start without a number", () => {
    const attempts = (...events: ReturnType<typeof b.stepStarted>[]) => stateOf(run, numbered([started(), ...events])).steps[0]!.attempts;
    expect(attempts(b.stepStarted(run), b.stepStarted(run))).toBe(2);
    expect(attempts(b.stepStarted(run, { attempt: 3 }))).toBe(3);
    expect(attempts(b.stepStarted(run, { attempt: 2 }), b.stepStarted(run, { attempt: 1 }))).toBe(2);
    expect(attempts(b.stepStarted(run, { attempt: 1 }), b.stepFailed(run, { attempt: 4, willRetry: true }))).toBe(4);
  });

  it("step.completed records output, finish time and the payload's duration", () => {
    const s = stateOf(
      run,
      numbered([started(), b.stepStarted(run), b.stepCompleted(run, { duration: durationFromMs(1500) }, { output: { ok: true } })]),
    );
    expect(s.steps[0]).toMatchObject({ status: StepStatus.COMPLETED, output: json({ ok: true }), finishedAt: at(3) });
    expect(s.steps[0]!.duration).toEqual(durationFromMs(1500));
  });

  it("without a duration in the payload, it is finished_at − started_at", () => {
    const events = numbered([started(), b.stepStarted(run), b.stepCompleted(run)]);
    events[1]!.timestamp = timestampFromMs(baseMs + 1_250);
    events[2]!.timestamp = timestampFromMs(baseMs + 3_000);
    expect(stateOf(run, events).steps[0]!.duration).toEqual(durationFromMs(1_750));
    // Never negative: a clock that went backwards gives no duration.
    events[2]!.timestamp = timestampFromMs(baseMs);
    expect(stateOf(run, events).steps[0]!.duration).toBeUndefined();
  });

  it("step.failed with will_retry is RETRYING; without, FAILED; the error is kept across the retry", () => {
    const retrying = stateOf(run, numbered([started(), b.stepStarted(run), b.stepFailed(run, { error: "timeout", willRetry: true })]));
    expect(retrying.steps[0]).toMatchObject({ status: StepStatus.RETRYING, lastError: "timeout", attempts: 1 });
    const failed = stateOf(run, numbered([started(), b.stepStarted(run), b.stepFailed(run, { error: "bad", willRetry: false })]));
    expect(failed.steps[0]!.status).toBe(StepStatus.FAILED);
    const retried = stateOf(
      run,
      numbered([
        started(),
        b.stepStarted(run),
        b.stepFailed(run, { error: "timeout", willRetry: true, duration: durationFromMs(10) }),
        b.stepStarted(run),
      ]),
    );
    expect(retried.steps[0]).toMatchObject({ status: StepStatus.RUNNING, attempts: 2, lastError: "timeout", startedAt: at(4) });
    expect(retried.steps[0]!.finishedAt).toBeUndefined();
    expect(retried.steps[0]!.duration).toBeUndefined();
  });

  it("step.skipped records the reason", () => {
    const s = stateOf(run, numbered([started(), b.stepSkipped(run, { reason: "not needed" }, { stepName: "wrap" })]));
    expect(s.steps[0]).toMatchObject({ name: "wrap", status: StepStatus.SKIPPED, skipReason: "not needed", finishedAt: at(2) });
  });

  it("keeps steps in first-seen order", () => {
    const s = stateOf(
      run,
      numbered([
        started(),
        b.stepStarted(run, {}, { stepName: "b" }),
        b.stepStarted(run, {}, { stepName: "a" }),
        b.stepCompleted(run, {}, { stepName: "b" }),
        b.stepScheduled(run, {}, { stepName: "c" }),
      ]),
    );
    expect(s.steps.map((x) => x.name)).toEqual(["b", "a", "c"]);
  });
});

describe("evolve: branches, signals, children, maps", () => {
  it("branch.evaluated appends the choice with its sequence", () => {
    const s = stateOf(
      run,
      numbered([
        started(),
        b.branchEvaluated(run, { branchName: "ship", choice: "express" }, { stepName: "route" }),
        b.branchEvaluated(run, { branchName: "ship", choice: "ground" }, { stepName: "route" }),
      ]),
    );
    expect(s.branches.map((x) => [x.stepName, x.branchName, x.choice, x.sequence])).toEqual([
      ["route", "ship", "express", 2n],
      ["route", "ship", "ground", 3n],
    ]);
  });

  it("signal.waiting → WAITING; signal.received → RECEIVED with payload; the run waits meanwhile", () => {
    const history = numbered([
      started(),
      b.signalWaiting(run, { signalName: "approval", timeoutAt: at(100) }, { stepName: "gate" }),
      b.signalReceived(run, { signalName: "approval", payload: { ok: 1 } }),
    ]);
    const waiting = stateOf(run, history.slice(0, 2));
    expect(waiting.status).toBe(RunStatus.WAITING);
    expect(waiting.signals[0]).toMatchObject({ name: "approval", status: SignalStatus.WAITING, timeoutAt: at(100), waitingSince: at(2), stepName: "gate" });
    const received = stateOf(run, history);
    expect(received.status).toBe(RunStatus.RUNNING);
    expect(received.signals[0]).toMatchObject({ status: SignalStatus.RECEIVED, payload: json({ ok: 1 }), resolvedAt: at(3) });
  });

  it("signal.timeout → TIMED_OUT; waiting again resets the wait", () => {
    const s = stateOf(
      run,
      numbered([started(), b.signalWaiting(run, { signalName: "x" }), b.signalTimeout(run, { signalName: "x" })]),
    );
    expect(s.signals[0]).toMatchObject({ status: SignalStatus.TIMED_OUT, resolvedAt: at(3) });
    const again = stateOf(
      run,
      numbered([
        started(),
        b.signalWaiting(run, { signalName: "x" }),
        b.signalReceived(run, { signalName: "x", payload: 1 }),
        b.signalWaiting(run, { signalName: "x" }),
      ]),
    );
    expect(again.signals).toHaveLength(1);
    expect(again.signals[0]).toMatchObject({ status: SignalStatus.WAITING, waitingSince: at(4) });
    expect(again.signals[0]!.payload).toBeUndefined();
    expect(again.signals[0]!.resolvedAt).toBeUndefined();
  });

  it("the run waits until every awaited signal resolved", () => {
    const history = numbered([
      started(),
      b.signalWaiting(run, { signalName: "a" }),
      b.signalWaiting(run, { signalName: "b" }),
      b.signalReceived(run, { signalName: "a" }),
      b.signalTimeout(run, { signalName: "b" }),
    ]);
    expect(stateOf(run, history.slice(0, 4)).status).toBe(RunStatus.WAITING);
    expect(stateOf(run, history).status).toBe(RunStatus.RUNNING);
  });

  it("child.spawned / completed / failed track children by run ID", () => {
    const s = stateOf(
      run,
      numbered([
        started(),
        b.childSpawned(run, { childRunId: "c1", workflowName: "ship", input: { to: "x" } }, { stepName: "ship" }),
        b.childSpawned(run, { childRunId: "c2", workflowName: "bill" }),
        b.childCompleted(run, { childRunId: "c1" }, { output: { tracking: "T" } }),
        b.childFailed(run, { childRunId: "c2", error: "no card" }),
      ]),
    );
    expect(s.children.map((c) => [c.childRunId, c.workflowName, c.status, c.stepName, c.error])).toEqual([
      ["c1", "ship", ChildStatus.COMPLETED, "ship", ""],
      ["c2", "bill", ChildStatus.FAILED, "", "no card"],
    ]);
    expect(s.children[0]!.input).toEqual(json({ to: "x" }));
    expect(s.children[0]!.output).toEqual(json({ tracking: "T" }));
    const payloadOutput = stateOf(
      run,
      numbered([started(), b.childSpawned(run, { childRunId: "c" }), b.childCompleted(run, { childRunId: "c", output: 5 }, { output: 6 })]),
    );
    expect(payloadOutput.children[0]!.output).toEqual(json(5));
  });

  it("map.started / completed / failed track fan-outs by step", () => {
    const s = stateOf(
      run,
      numbered([
        started(),
        b.mapStarted(run, { itemCount: 3 }, { stepName: "resize" }),
        b.mapCompleted(run, { results: [1, 2, 3] }, { stepName: "resize" }),
        b.mapStarted(run, { itemCount: 2 }, { stepName: "notify" }),
        b.mapFailed(run, { failedIndex: 1, error: "bounce" }, { stepName: "notify" }),
      ]),
    );
    expect(s.maps.map((m) => [m.stepName, m.itemCount, m.status, m.failedIndex, m.error])).toEqual([
      ["resize", 3, ChildStatus.COMPLETED, 0, ""],
      ["notify", 2, ChildStatus.FAILED, 1, "bounce"],
    ]);
    expect(s.maps[0]!.results).toEqual(json([1, 2, 3]));
    expect(s.steps).toEqual([]); // map events do not create steps
    const fromEnvelope = stateOf(
      run,
      numbered([started(), b.mapStarted(run, {}, { stepName: "m" }), b.mapCompleted(run, {}, { stepName: "m", output: ["r"] })]),
    );
    expect(fromEnvelope.maps[0]!.results).toEqual(json(["r"]));
    const restarted = stateOf(
      run,
      numbered([
        started(),
        b.mapStarted(run, { itemCount: 2 }, { stepName: "m" }),
        b.mapFailed(run, { failedIndex: 1 }, { stepName: "m" }),
        b.mapStarted(run, { itemCount: 4 }, { stepName: "m" }),
      ]),
    );
    expect(restarted.maps).toHaveLength(1);
    expect(restarted.maps[0]).toMatchObject({ itemCount: 4, status: ChildStatus.RUNNING, failedIndex: 0, error: "" });
  });
});

describe("evolve: compensation, context, custom, snapshot", () => {
  const saga = () => [
    started(),
    b.stepStarted(run, {}, { stepName: "book" }),
    b.stepCompleted(run, {}, { stepName: "book" }),
    b.stepStarted(run, {}, { stepName: "pay" }),
    b.stepFailed(run, { error: "declined" }, { stepName: "pay" }),
  ];

  it("compensation.started → COMPENSATING with trigger and steps to undo", () => {
    const s = stateOf(run, numbered([...saga(), b.compensationStarted(run, { triggerStep: "pay", stepsToUndo: ["book"] })]));
    expect(s.status).toBe(RunStatus.COMPENSATING);
    expect(s.compensation).toMatchObject({ status: CompensationStatus.RUNNING, triggerStep: "pay", stepsToUndo: ["book"], stepsCompensated: [] });
  });

  it("compensation.completed marks the compensated steps (known ones) COMPENSATED", () => {
    const s = stateOf(
      run,
      numbered([
        ...saga(),
        b.compensationStarted(run, { triggerStep: "pay", stepsToUndo: ["book"] }),
        b.compensationCompleted(run, { stepsCompensated: ["book", "never-ran"] }),
      ]),
    );
    expect(s.status).toBe(RunStatus.COMPENSATED);
    expect(s.compensation).toMatchObject({ status: CompensationStatus.COMPLETED, stepsCompensated: ["book", "never-ran"] });
    expect(s.steps.map((x) => [x.name, x.status])).toEqual([
      ["book", StepStatus.COMPENSATED],
      ["pay", StepStatus.FAILED],
    ]);
  });

  it("compensation.failed records the step and error", () => {
    const s = stateOf(
      run,
      numbered([...saga(), b.compensationStarted(run), b.compensationFailed(run, { failedStep: "book", error: "gone" })]),
    );
    expect(s.status).toBe(RunStatus.COMPENSATION_FAILED);
    expect(s.compensation).toMatchObject({ status: CompensationStatus.FAILED, failedStep: "book", error: "gone" });
  });

  it("fail then compensate: status follows the last event; the failure stays recorded", () => {
    const s = stateOf(
      run,
      numbered([
        ...saga(),
        b.workflowFailed(run, { error: "pay failed", failedStep: "pay" }),
        b.compensationStarted(run, { triggerStep: "pay", stepsToUndo: ["book"] }),
        b.compensationCompleted(run, { stepsCompensated: ["book"] }),
      ]),
    );
    expect(s.status).toBe(RunStatus.COMPENSATED);
    expect([s.error, s.failedStep]).toEqual(["pay failed", "pay"]);
  });

  it("context.updated sets keys; without a value the key is JSON null", () => {
    const s = stateOf(
      run,
      numbered([
        started(),
        b.contextUpdated(run, { key: "discount", value: { percent: 10 } }),
        b.contextUpdated(run, { key: "discount", value: 15 }),
        b.contextUpdated(run, { key: "note" }),
        b.contextUpdated(run, { key: "__proto__", value: "safe" }),
      ]),
    );
    expect(toJson(ValueSchema, s.context["discount"]!)).toBe(15);
    expect(s.context["note"]).toEqual(create(ValueSchema, { kind: { case: "nullValue", value: 0 } }));
    expect(Object.prototype.hasOwnProperty.call(s.context, "__proto__")).toBe(true);
    expect(Object.getPrototypeOf(s.context)).toBe(Object.prototype);
  });

  it("custom and snapshot events are counted, not interpreted", () => {
    const s = stateOf(
      run,
      numbered([b.customEvent(run), started(), b.snapshotEvent(run), b.customEvent(run, { name: "x", json: 1 })]),
    );
    expect([s.eventCount, s.customEventCount, s.snapshotEventCount]).toEqual([4n, 2n, 1n]);
    expect(s.status).toBe(RunStatus.RUNNING);
    expect(s.steps).toEqual([]);
  });
});

describe("evolve: envelope bookkeeping", () => {
  it("counts events and keeps first/last timestamps and the last sequence", () => {
    const s = stateOf(run, numbered([started(), b.stepStarted(run), b.customEvent(run)], 5));
    expect(s.eventCount).toBe(3n);
    expect(s.firstEventAt).toEqual(at(5));
    expect(s.lastEventAt).toEqual(at(7));
    expect(s.lastSequence).toBe(7n);
  });

  it("resolves UNSPECIFIED types from the payload, and folds the same either way", () => {
    const unresolved = numbered([started(), b.stepStarted(run), b.stepCompleted(run, {}, { output: 1 }), b.workflowCompleted(run)]);
    expect(unresolved.every((e) => e.type === EventType.UNSPECIFIED)).toBe(true);
    const resolved = unresolved.map((e) => ({ ...e, type: typeOfPayloadCase(e.payload.case!) }));
    expect(stateOf(run, unresolved)).toEqual(stateOf(run, resolved));
    expect(stateOf(run, unresolved).status).toBe(RunStatus.COMPLETED);
  });

  it("throws InvalidArgumentError for an untyped event without payload", () => {
    const bad = b.event(run, { case: undefined });
    expect(() => evolve(initialRunState(run), bad)).toThrow(InvalidArgumentError);
  });

  it("tolerates a type whose payload is missing (defaults)", () => {
    for (const entry of catalog) {
      const bare = b.event(run, { case: undefined }, { type: entry.type, sequence: 1, stepName: "s" });
      const s = toRunState(evolve(initialRunState(run), bare));
      expect(s.eventCount).toBe(1n);
    }
  });

  it("is deterministic and does not change the events", () => {
    const history = numbered([started(), b.stepStarted(run, { assignedTo: ["a"] }), b.stepCompleted(run, {}, { output: [1] })]);
    const before = history.map((e) => toJson(EventSchema, e));
    const first = stateOf(run, history);
    const second = stateOf(run, history);
    expect(first).toEqual(second);
    expect(history.map((e) => toJson(EventSchema, e))).toEqual(before);
  });

  it("cloneRunModel gives an independent copy", () => {
    const model = initialRunState(run);
    for (const e of numbered([started(), b.stepStarted(run), b.signalWaiting(run), b.contextUpdated(run, { key: "k", value: 1 })])) {
      evolve(model, e);
    }
    const copy = cloneRunModel(model);
    for (const e of numbered([b.stepCompleted(run), b.signalReceived(run), b.contextUpdated(run, { key: "k", value: 2 })], 5)) {
      evolve(copy, e);
    }
    expect(toRunState(model).steps[0]!.status).toBe(StepStatus.RUNNING);
    expect(toRunState(model).status).toBe(RunStatus.WAITING);
    expect(toRunState(model).context["k"]).toEqual(json(1));
    expect(toRunState(copy).steps[0]!.status).toBe(StepStatus.COMPLETED);
    expect(toRunState(copy).status).toBe(RunStatus.RUNNING);
  });

  it("toRunState copies string lists, so callers cannot change the events through it", () => {
    const history = numbered([started(), b.stepScheduled(run, { dependencies: ["x"] })]);
    const s = stateOf(run, history);
    s.steps[0]!.dependencies.push("y");
    expect(history[1]!.payload.case === "stepScheduled" && history[1]!.payload.value.dependencies).toEqual(["x"]);
  });
});
