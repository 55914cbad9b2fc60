import { describe, expect, it, vi } from "vitest";
import type { Event } from "../../gen/runlog/v1/event_pb.js";
import { RunStatus, StepStatus } from "../../gen/runlog/v1/run_state_pb.js";
import { ConcurrencyConflictError, LifecycleViolationError, RunNotFoundError } from "../../src/errors.js";
import { createReconstructor, type SnapshotErrorContext } from "../../src/reconstruct/create-reconstructor.js";
import { currentReducerVersion } from "../../src/reconstruct/reducer-version.js";
import { encodeSnapshot } from "../../src/reconstruct/snapshot-codec.js";
import type { EventStore } from "../../src/store/event-store.js";
import type { SnapshotStore, StoredSnapshot } from "../../src/store/snapshot-store.js";
import { createMemoryEventStore } from "../../src/store/memory/memory-event-store.js";
import { createMemorySnapshotStore } from "../../src/store/memory/memory-snapshot-store.js";
import * as b from "../support/events.js";
import { appendChecked, expectSameState, numbered, replay, stateOf } from "./helpers.js";
import { buildHistory } from "./histories.js";

const run = "run-r";

/** A valid history of `length` events: started, then step a/b started+completed pairs, custom events to fill. */
function longHistory(length: number, runId = run): Event[] {
  const events: Event[] = [b.workflowStarted(runId, { workflowName: "long", input: { n: length } })];
  for (let i = 0; events.length < length; i++) {
    const name = `step-${i % 7}`;
    events.push(b.stepStarted(runId, {}, { stepName: name }));
    if (events.length < length) events.push(b.stepCompleted(runId, {}, { stepName: name, output: { i } }));
    if (i % 5 === 0 && events.length < length) events.push(b.customEvent(runId, { json: i }));
  }
  return numbered(events);
}

/** A memory store whose snapshots are recorded (and can be made to fail). */
function setup(options: { snapshotEvery?: number; snapshotBytesPerEvent?: number; cacheSize?: number; reducerVersion?: number } = {}) {
  const saved: StoredSnapshot[] = [];
  const inner = createMemorySnapshotStore();
  const faults = { save: false, latest: false };
  const snapshots: SnapshotStore = {
    async latest(runId, atOrBefore, reducerVersion) {
      if (faults.latest) throw new Error("snapshot table unreachable");
      return inner.latest(runId, atOrBefore, reducerVersion);
    },
    async save(snapshot) {
      if (faults.save) throw new Error("disk full");
      saved.push(snapshot);
      return inner.save(snapshot);
    },
  };
  const store = createMemoryEventStore({ snapshots });
  const errors: Array<[unknown, SnapshotErrorContext]> = [];
  // Snapshots at every multiple unless a test asks for the size rule.
  const reconstructor = createReconstructor({ store, snapshotBytesPerEvent: 0, ...options, onSnapshotError: (e, c) => errors.push([e, c]) });
  return { store, reconstructor, saved, snapshots: inner, faults, errors };
}

async function appendAll(store: EventStore, reconstructor: ReturnType<typeof createReconstructor>, events: readonly Event[], batch = 1) {
  for (let i = 0; i < events.length; i += batch) {
    // As a client would send them: server-assigned sequences.
    await appendChecked(store, reconstructor, events.slice(i, i + batch).map((e) => ({ ...e, sequence: 0n })));
  }
}

describe("getRunState", () => {
  it("reconstructs the latest state (full replay without snapshots)", async () => {
    const { store, reconstructor } = setup();
    const history = longHistory(30);
    await store.append(history);
    const result = await reconstructor.getRunState(run);
    expectSameState(result.state, stateOf(run, history));
    expect(result.snapshotSequence).toBe(0n);
    expect(result.replayedEvents).toBe(30);
  });

  it("time travel: the state as of every sequence", async () => {
    const { store, reconstructor } = setup();
    const history = longHistory(25);
    await store.append(history);
    for (let asOf = 1; asOf <= 25; asOf++) {
      const result = await reconstructor.getRunState(run, BigInt(asOf));
      expectSameState(result.state, stateOf(run, history.slice(0, asOf)));
      expect(result.state.lastSequence).toBe(BigInt(asOf));
    }
  });

  it("uses the latest snapshot at or before as_of and replays only the tail", async () => {
    const { store, reconstructor, saved } = setup({ snapshotEvery: 10 });
    const history = longHistory(25);
    await appendAll(store, reconstructor, history);
    expect(saved.map((s) => s.sequence)).toEqual([10n, 20n]);
    expect(saved.every((s) => s.reducerVersion === currentReducerVersion && s.runId === run)).toBe(true);

    const fresh = createReconstructor({ store, snapshotEvery: 10, snapshotBytesPerEvent: 0 });
    const latest = await fresh.getRunState(run);
    expect([latest.snapshotSequence, latest.replayedEvents]).toEqual([20n, 5]);
    expectSameState(latest.state, stateOf(run, history));

    const at15 = await fresh.getRunState(run, 15n);
    expect([at15.snapshotSequence, at15.replayedEvents]).toEqual([10n, 5]);
    expectSameState(at15.state, stateOf(run, history.slice(0, 15)));

    const at20 = await fresh.getRunState(run, 20n);
    expect([at20.snapshotSequence, at20.replayedEvents]).toEqual([20n, 0]);
    expectSameState(at20.state, stateOf(run, history.slice(0, 20)));

    const at9 = await fresh.getRunState(run, 9n);
    expect([at9.snapshotSequence, at9.replayedEvents]).toEqual([0n, 9]);
  });

  it("pages through long tails", async () => {
    const store = createMemoryEventStore({ limits: { ...(await import("../../src/limits.js")).defaultLimits, maxPageEvents: 7 } });
    const reconstructor = createReconstructor({ store, snapshotEvery: 0, snapshotBytesPerEvent: 0 });
    const history = longHistory(40);
    await store.append(history);
    expectSameState((await reconstructor.getRunState(run)).state, stateOf(run, history));
    expectSameState((await reconstructor.getRunState(run, 23n)).state, stateOf(run, history.slice(0, 23)));
  });

  it("ignores snapshots of another reducer version (stale): full replay", async () => {
    const { store, reconstructor, saved } = setup({ snapshotEvery: 5 });
    const history = longHistory(12);
    await appendAll(store, reconstructor, history);
    expect(saved).toHaveLength(2);
    const newer = createReconstructor({ store, snapshotEvery: 5, snapshotBytesPerEvent: 0, reducerVersion: currentReducerVersion + 1 });
    const result = await newer.getRunState(run);
    expect(result.snapshotSequence).toBe(0n);
    expect(result.replayedEvents).toBe(12);
    expectSameState(result.state, stateOf(run, history));
  });

  it("falls back to a full replay from a corrupt snapshot, and reports it", async () => {
    const { store, snapshots } = setup();
    const history = longHistory(12);
    await store.append(history);
    const errors: SnapshotErrorContext[] = [];
    const reconstructor = createReconstructor({ store, onSnapshotError: (_e, c) => errors.push(c) });
    const good = encodeSnapshot(replay(run, history.slice(0, 5)));
    await snapshots.save({ runId: run, sequence: 5n, reducerVersion: currentReducerVersion, state: good });
    await snapshots.save({ runId: run, sequence: 10n, reducerVersion: currentReducerVersion, state: new Uint8Array([1, 2, 3, 0xff]) });

    const result = await reconstructor.getRunState(run);
    expect([result.snapshotSequence, result.replayedEvents]).toEqual([0n, 12]);
    expectSameState(result.state, stateOf(run, history));
    expect(errors).toEqual([{ operation: "decode", runId: run, sequence: 10n }]);
    // Below the corrupt one, the good snapshot is used.
    expect((await reconstructor.getRunState(run, 9n)).snapshotSequence).toBe(5n);
  });

  it("falls back to a full replay from a snapshot stored under the wrong key", async () => {
    const { store, snapshots, reconstructor, errors } = setup();
    const history = longHistory(12);
    await store.append(history);
    // The state after sequence 6, stored as if it were after sequence 8; another run's state at 10.
    await snapshots.save({ runId: run, sequence: 8n, reducerVersion: currentReducerVersion, state: encodeSnapshot(replay(run, history.slice(0, 6))) });
    await snapshots.save({ runId: run, sequence: 10n, reducerVersion: currentReducerVersion, state: encodeSnapshot(replay("other", history.slice(0, 10))) });
    expect((await reconstructor.getRunState(run)).snapshotSequence).toBe(0n);
    expect((await reconstructor.getRunState(run, 9n)).snapshotSequence).toBe(0n);
    expectSameState((await reconstructor.getRunState(run, 9n)).state, stateOf(run, history.slice(0, 9)));
    expect(errors.map(([, c]) => c.sequence)).toEqual([10n, 8n, 8n]);
  });

  it("falls back to a full replay when snapshots cannot be read", async () => {
    const { store, reconstructor, faults, errors } = setup({ snapshotEvery: 5 });
    const history = longHistory(12);
    await appendAll(store, reconstructor, history);
    faults.latest = true;
    const result = await createReconstructor({ store, onSnapshotError: () => {} }).getRunState(run);
    expect(result.snapshotSequence).toBe(0n);
    expectSameState(result.state, stateOf(run, history));
    expect(errors).toEqual([]);
    await reconstructor.getRunState(run);
    expect(errors.map(([, c]) => c.operation)).toEqual(["load"]);
  });

  it("ignores a snapshot store that answers beyond as_of or for another version", async () => {
    const store = createMemoryEventStore();
    const history = longHistory(10);
    await store.append(history);
    const liar: SnapshotStore = {
      async latest(runId) {
        return { runId, sequence: 9n, reducerVersion: 99, state: encodeSnapshot(replay(run, history.slice(0, 9))) };
      },
      async save() {},
    };
    const reconstructor = createReconstructor({ store: { ...store, snapshots: liar } });
    expect((await reconstructor.getRunState(run, 5n)).snapshotSequence).toBe(0n);
  });

  it("RunNotFoundError: unknown run, as_of beyond the run, as_of below 1", async () => {
    const { store, reconstructor } = setup();
    await store.append(numbered([b.workflowStarted(run), b.stepStarted(run)]));
    await expect(reconstructor.getRunState("nope")).rejects.toMatchObject({ constructor: RunNotFoundError, runId: "nope", lastSequence: 0n });
    await expect(reconstructor.getRunState("nope", 1n)).rejects.toBeInstanceOf(RunNotFoundError);
    await expect(reconstructor.getRunState(run, 3n)).rejects.toMatchObject({
      constructor: RunNotFoundError,
      runId: run,
      lastSequence: 2n,
      message: expect.stringContaining("last sequence is 2"),
    });
    await expect(reconstructor.getRunState(run, 0n)).rejects.toMatchObject({ constructor: RunNotFoundError, lastSequence: 2n });
    await expect(reconstructor.getRunState(run, -4n)).rejects.toBeInstanceOf(RunNotFoundError);
    expect((await reconstructor.getRunState(run, 2n)).state.lastSequence).toBe(2n);
  });

  it("a run of custom events only has a state (UNSPECIFIED status)", async () => {
    const { store, reconstructor } = setup();
    await appendAll(store, reconstructor, [b.customEvent(run), b.customEvent(run)]);
    const { state } = await reconstructor.getRunState(run);
    expect(state.status).toBe(RunStatus.UNSPECIFIED);
    expect(state.customEventCount).toBe(2n);
  });
});

describe("validateAppend", () => {
  it("returns, per run, the last sequence it checked against", async () => {
    const { store, reconstructor } = setup();
    expect(await reconstructor.validateAppend([b.workflowStarted(run)])).toEqual(new Map([[run, 0n]]));
    await appendAll(store, reconstructor, [b.workflowStarted(run), b.stepStarted(run)]);
    expect(await reconstructor.validateAppend([b.stepCompleted(run)])).toEqual(new Map([[run, 2n]]));
  });

  it("throws LifecycleViolationError naming the rule, run and sequence", async () => {
    const { store, reconstructor } = setup();
    await appendAll(store, reconstructor, [b.workflowStarted(run), b.stepStarted(run, {}, { stepName: "a" })]);
    await expect(reconstructor.validateAppend([b.stepCompleted(run, {}, { stepName: "b" })])).rejects.toMatchObject({
      constructor: LifecycleViolationError,
      rule: "step-completed-needs-started",
      runId: run,
      sequence: 3n,
    });
    await expect(reconstructor.validateAppend([b.workflowStarted(run)])).rejects.toMatchObject({ rule: "workflow-started-once" });
    await expect(reconstructor.validateAppend([b.stepStarted("fresh-run")])).rejects.toMatchObject({
      rule: "first-event-is-workflow-started",
      runId: "fresh-run",
      sequence: 1n,
    });
  });

  it("checks a batch in order, each event against the ones before it", async () => {
    const { store, reconstructor } = setup();
    const batch = [b.workflowStarted(run), b.stepStarted(run), b.stepCompleted(run), b.signalWaiting(run), b.signalReceived(run)];
    expect(await reconstructor.validateAppend(batch)).toEqual(new Map([[run, 0n]]));
    await expect(reconstructor.validateAppend([b.workflowStarted(run), b.stepCompleted(run)])).rejects.toMatchObject({
      rule: "step-completed-needs-started",
      sequence: 2n,
    });
    await expect(reconstructor.validateAppend([...batch, b.workflowCompleted(run), b.customEvent(run)])).rejects.toMatchObject({
      rule: "no-event-after-terminal",
      sequence: 7n,
    });
    // Nothing was stored or cached by validating.
    expect(await store.getLastSequence(run)).toBe(0n);
    expect(await reconstructor.validateAppend([b.workflowStarted(run)])).toEqual(new Map([[run, 0n]]));
  });

  it("does not change the cached state when it validates (a failed batch leaves no trace)", async () => {
    const { store, reconstructor } = setup();
    await appendAll(store, reconstructor, [b.workflowStarted(run), b.stepStarted(run)]);
    await expect(reconstructor.validateAppend([b.stepCompleted(run), b.stepCompleted(run)])).rejects.toMatchObject({ sequence: 4n });
    await reconstructor.validateAppend([b.stepCompleted(run), b.workflowCompleted(run)]);
    // Validated but never appended: the step is still running.
    expect(await reconstructor.validateAppend([b.stepFailed(run)])).toEqual(new Map([[run, 2n]]));
    expect((await reconstructor.getRunState(run)).state.steps[0]!.status).toBe(StepStatus.RUNNING);
  });

  it("validates a batch spanning runs (parent spawns, child starts)", async () => {
    const { store, reconstructor } = setup();
    await appendAll(store, reconstructor, [b.workflowStarted("parent")]);
    const batch = [b.childSpawned("parent", { childRunId: "child" }), b.workflowStarted("child"), b.stepStarted("child")];
    expect(await reconstructor.validateAppend(batch)).toEqual(
      new Map([
        ["parent", 1n],
        ["child", 0n],
      ]),
    );
    await appendChecked(store, reconstructor, batch);
    await expect(
      reconstructor.validateAppend([b.childCompleted("parent", { childRunId: "child" }), b.stepStarted("other-run")]),
    ).rejects.toMatchObject({ rule: "first-event-is-workflow-started", runId: "other-run" });
  });

  it("never serves a stale cached state: another writer's events are caught up", async () => {
    const { store, reconstructor } = setup();
    await appendAll(store, reconstructor, [b.workflowStarted(run)]);
    // Another server appends through the same store (this reconstructor never sees afterAppend).
    const other = createReconstructor({ store });
    await appendAll(store, other, [b.stepStarted(run), b.stepCompleted(run), b.stepStarted(run, {}, { stepName: "x" })]);
    expect(await reconstructor.validateAppend([b.stepCompleted(run, {}, { stepName: "x" })])).toEqual(new Map([[run, 4n]]));
    await store.append([b.workflowCancelled(run)]);
    await expect(reconstructor.validateAppend([b.customEvent(run)])).rejects.toMatchObject({ rule: "no-event-after-terminal", sequence: 6n });
  });

  it("works without a cache, and with a cache smaller than the number of runs", async () => {
    for (const cacheSize of [0, 1]) {
      const { store, reconstructor } = setup({ cacheSize });
      for (const id of ["r1", "r2", "r3"]) await appendAll(store, reconstructor, [b.workflowStarted(id), b.stepStarted(id)]);
      for (const id of ["r1", "r2", "r3"]) {
        expect(await reconstructor.validateAppend([b.stepCompleted(id)])).toEqual(new Map([[id, 2n]]));
        await expect(reconstructor.validateAppend([b.workflowStarted(id)])).rejects.toMatchObject({ rule: "workflow-started-once" });
      }
    }
  });

  it("restores a run not in the cache from its snapshot", async () => {
    const { store, reconstructor } = setup({ snapshotEvery: 10 });
    const history = longHistory(23);
    await appendAll(store, reconstructor, history);
    const restarted = createReconstructor({ store, snapshotEvery: 10, snapshotBytesPerEvent: 0 });
    expect(await restarted.validateAppend([b.workflowCompleted(run)])).toEqual(new Map([[run, 23n]]));
    await expect(restarted.validateAppend([b.workflowStarted(run)])).rejects.toMatchObject({ rule: "workflow-started-once" });
  });

  it("leaves stale client sequences to the store's conflict check (ABORTED, not a lifecycle error)", async () => {
    const { store, reconstructor } = setup();
    await appendAll(store, reconstructor, [b.workflowStarted(run), b.stepStarted(run)]);
    // The writer believes the run has only its start, and would start it again.
    const stale = [b.workflowStarted(run, {}, { sequence: 2 })];
    const expected = await reconstructor.validateAppend(stale);
    expect(expected).toEqual(new Map([[run, 2n]]));
    await expect(store.append(stale, { expected })).rejects.toBeInstanceOf(ConcurrencyConflictError);
    // With the right sequence, the rule applies.
    await expect(reconstructor.validateAppend([b.workflowStarted(run, {}, { sequence: 3 })])).rejects.toMatchObject({ rule: "workflow-started-once" });
  });

  it("lets an exact retry through to the store, which answers with the original result", async () => {
    const { store, reconstructor } = setup();
    const batch = [b.workflowStarted(run, {}, { id: b.newId() }), b.stepStarted(run, {}, { id: b.newId() })];
    const first = await store.append(batch, { expected: await reconstructor.validateAppend(batch) });
    await reconstructor.afterAppend(await store.load(run).then((p) => p.events));
    // A retry of the same batch (server-assigned sequences) would break workflow-started-once…
    const expected = await reconstructor.validateAppend(batch);
    const retry = await store.append(batch, { expected });
    expect(retry).toEqual({ events: first.events, duplicate: true });
    // …but only when every event is already stored.
    const partly = [batch[0]!, b.stepCompleted(run, {}, { id: b.newId() })];
    await expect(reconstructor.validateAppend(partly)).rejects.toMatchObject({ rule: "workflow-started-once" });
    const anonymous = [b.workflowStarted(run)];
    await expect(reconstructor.validateAppend(anonymous)).rejects.toMatchObject({ rule: "workflow-started-once" });
  });

  it("finds a retried event far back in a long run", async () => {
    const store = createMemoryEventStore({ limits: { ...(await import("../../src/limits.js")).defaultLimits, maxPageEvents: 4 } });
    const reconstructor = createReconstructor({ store });
    const history = longHistory(15).map((e) => ({ ...e, id: b.newId() }));
    await store.append(history);
    expect(await reconstructor.validateAppend([{ ...history[0]!, sequence: 0n }])).toEqual(new Map([[run, 15n]]));
    await expect(reconstructor.validateAppend([{ ...history[0]!, id: b.newId(), sequence: 0n }])).rejects.toBeInstanceOf(
      LifecycleViolationError,
    );
  });

  it("resolves UNSPECIFIED types from the payload", async () => {
    const { reconstructor } = setup();
    const event = b.stepStarted(run);
    expect(event.type).toBe(0);
    await expect(reconstructor.validateAppend([event])).rejects.toMatchObject({ rule: "first-event-is-workflow-started" });
  });
});

describe("afterAppend", () => {
  it("saves a snapshot each time a run reaches a multiple of snapshotEvery", async () => {
    const { store, reconstructor, saved } = setup({ snapshotEvery: 4 });
    await appendAll(store, reconstructor, longHistory(13));
    expect(saved.map((s) => s.sequence)).toEqual([4n, 8n, 12n]);
  });

  it("skips multiples while the events since the last snapshot are fewer than its size / snapshotBytesPerEvent", async () => {
    // Every step distinct, with an output: the state (and so each snapshot) keeps growing.
    const events: Event[] = [b.workflowStarted(run, { workflowName: "wide" })];
    for (let i = 0; events.length < 400; i++) {
      events.push(b.stepStarted(run, {}, { stepName: `step-${i}` }));
      events.push(b.stepCompleted(run, {}, { stepName: `step-${i}`, output: { i, text: "x".repeat(40) } }));
    }
    const { store, reconstructor, saved } = setup({ snapshotEvery: 10, snapshotBytesPerEvent: 32 });
    await appendAll(store, reconstructor, numbered(events));
    const sequences = saved.map((s) => s.sequence);
    expect(sequences[0]).toBe(10n);
    for (let i = 1; i < saved.length; i++) {
      const gap = saved[i]!.sequence - saved[i - 1]!.sequence;
      expect(gap % 10n).toBe(0n); // still at multiples of snapshotEvery
      expect(gap * 32n).toBeGreaterThanOrEqual(BigInt(saved[i - 1]!.state.length)); // never sooner than its size allows
      expect((gap - 10n) * 32n).toBeLessThan(BigInt(saved[i - 1]!.state.length)); // and at the first multiple that it allows
    }
    expect(saved.length).toBeLessThan(20); // not all 40 multiples
    const fresh = createReconstructor({ store });
    for (const asOf of [9n, 10n, 155n, 400n]) {
      expectSameState((await fresh.getRunState(run, asOf)).state, stateOf(run, numbered(events).slice(0, Number(asOf))));
    }
    // A state smaller than snapshotEvery × 32 bytes is snapshotted at every multiple.
    const small = setup({ snapshotEvery: 100, snapshotBytesPerEvent: 32 });
    await appendAll(small.store, small.reconstructor, longHistory(301), 50);
    expect(small.saved.map((s) => s.sequence)).toEqual([100n, 200n, 300n]);
    expect(small.saved[0]!.state.length).toBeLessThan(100 * 32);
  });

  it("saves one snapshot, at the highest multiple, for a batch crossing several", async () => {
    const { store, reconstructor, saved } = setup({ snapshotEvery: 3 });
    const history = longHistory(20);
    await appendAll(store, reconstructor, history.slice(0, 2));
    await appendAll(store, reconstructor, history.slice(2, 11), 9); // reaches 3, 6, 9
    await appendAll(store, reconstructor, history.slice(11, 13), 2); // 12, 13: reaches 12
    await appendAll(store, reconstructor, history.slice(13, 14)); // 14: none
    expect(saved.map((s) => s.sequence)).toEqual([9n, 12n]);
    const fresh = createReconstructor({ store, snapshotEvery: 3, snapshotBytesPerEvent: 0 });
    expectSameState((await fresh.getRunState(run, 10n)).state, stateOf(run, history.slice(0, 10)));
    expect((await fresh.getRunState(run, 8n)).snapshotSequence).toBe(0n);
  });

  it("saves snapshots for runs it has not cached (cache off, or appends it did not validate)", async () => {
    const { store, reconstructor, saved } = setup({ snapshotEvery: 5, cacheSize: 0 });
    const history = longHistory(16);
    await appendAll(store, reconstructor, history, 3);
    expect(saved.map((s) => s.sequence)).toEqual([5n, 10n, 15n]);
    const fresh = createReconstructor({ store, snapshotEvery: 5, snapshotBytesPerEvent: 0 });
    expectSameState((await fresh.getRunState(run)).state, stateOf(run, history));

    const unvalidated = setup({ snapshotEvery: 5 });
    const result = await unvalidated.store.append(history);
    await unvalidated.reconstructor.afterAppend(await unvalidated.store.load(run).then((p) => p.events));
    expect(result.events).toHaveLength(16);
    expect(unvalidated.saved.map((s) => s.sequence)).toEqual([15n]);
  });

  it("saves the snapshot from the store when the cache passed the boundary first", async () => {
    const { store, reconstructor, saved } = setup({ snapshotEvery: 4 });
    const history = longHistory(6);
    await appendAll(store, reconstructor, history.slice(0, 3));
    // Append 4 and 5 without afterAppend; a validation catches the cache up past 4.
    const appended = await store.append(history.slice(3, 5).map((e) => ({ ...e, sequence: 0n })));
    await reconstructor.validateAppend([history[5]!]);
    await reconstructor.afterAppend(await store.load(run, { afterSequence: 3n }).then((p) => p.events));
    expect(appended.events).toHaveLength(2);
    expect(saved.map((s) => s.sequence)).toEqual([4n]);
    const fresh = createReconstructor({ store });
    const result = await fresh.getRunState(run);
    expect(result.snapshotSequence).toBe(4n);
    expectSameState(result.state, stateOf(run, history.slice(0, 5)));
  });

  it("keeps the cache current, so validation needs no reload", async () => {
    const { store, reconstructor } = setup();
    await appendAll(store, reconstructor, [b.workflowStarted(run)]);
    const load = vi.spyOn(store, "load");
    await appendAll(store, reconstructor, [b.stepStarted(run), b.stepCompleted(run), b.workflowCompleted(run)]);
    // appendChecked itself loads the stored events once per event; validation loads nothing.
    expect(load).toHaveBeenCalledTimes(3);
  });

  it("never fails the append: save errors are reported, not thrown", async () => {
    const { store, reconstructor, faults, errors, saved } = setup({ snapshotEvery: 2 });
    faults.save = true;
    await appendAll(store, reconstructor, longHistory(5));
    expect(saved).toEqual([]);
    expect(errors.map(([e, c]) => [String(e), c])).toEqual([
      ["Error: disk full", { operation: "save", runId: run, sequence: 2n }],
      ["Error: disk full", { operation: "save", runId: run, sequence: 4n }],
    ]);
  });

  it("a throwing onSnapshotError is swallowed too", async () => {
    const store = createMemoryEventStore({
      snapshots: { latest: async () => undefined, save: async () => Promise.reject(new Error("no")) },
    });
    const reconstructor = createReconstructor({
      store,
      snapshotEvery: 1,
      onSnapshotError: () => {
        throw new Error("observer broke");
      },
    });
    await expect(appendAll(store, reconstructor, [b.workflowStarted(run)])).resolves.toBeUndefined();
  });

  it("drops a cached state it cannot fold, and reports it", async () => {
    const { store, reconstructor, errors } = setup();
    await appendAll(store, reconstructor, [b.workflowStarted(run)]);
    const broken = { ...b.event(run, { case: undefined }), sequence: 2n };
    await reconstructor.afterAppend([broken]);
    expect(errors.map(([, c]) => c)).toEqual([{ operation: "fold", runId: run, sequence: 2n }]);
    // The next validation rebuilds from the store.
    expect(await reconstructor.validateAppend([b.stepStarted(run)])).toEqual(new Map([[run, 1n]]));
  });

  it("skips events the cache already holds and ignores an empty call", async () => {
    const { store, reconstructor } = setup();
    const stored = await appendChecked(store, reconstructor, [b.workflowStarted(run), b.stepStarted(run)]);
    await reconstructor.afterAppend(stored);
    await reconstructor.afterAppend([]);
    expect(await reconstructor.validateAppend([b.stepCompleted(run)])).toEqual(new Map([[run, 2n]]));
    expect((await reconstructor.getRunState(run)).state.eventCount).toBe(2n);
  });

  it("snapshotEvery 0 saves none", async () => {
    const { store, reconstructor, saved } = setup({ snapshotEvery: 0 });
    await appendAll(store, reconstructor, longHistory(10), 5);
    expect(saved).toEqual([]);
  });
});

describe("options", () => {
  it("rejects invalid numbers", () => {
    const store = createMemoryEventStore();
    expect(() => createReconstructor({ store, snapshotEvery: -1 })).toThrow(RangeError);
    expect(() => createReconstructor({ store, snapshotEvery: 1.5 })).toThrow(/snapshotEvery/);
    expect(() => createReconstructor({ store, snapshotBytesPerEvent: -1 })).toThrow(/snapshotBytesPerEvent/);
    expect(() => createReconstructor({ store, cacheSize: Number.NaN })).toThrow(/cacheSize/);
    expect(() => createReconstructor({ store, reducerVersion: -2 })).toThrow(/reducerVersion/);
  });
});

describe("random histories, random batches, concurrent readers", () => {
  it("getRunState equals a full replay after every batch", async () => {
    for (let seed = 1; seed <= 20; seed++) {
      const choices = Array.from({ length: 80 }, (_, i) => ((seed * 7919 + i * 104729) ^ (i << 5)) >>> 0);
      const history = buildHistory(run, choices);
      const { store, reconstructor } = setup({ snapshotEvery: 1 + (seed % 6), cacheSize: seed % 3 });
      for (let i = 0; i < history.length; i += 1 + (seed % 4)) {
        const batch = history.slice(i, i + 1 + (seed % 4)).map((e) => ({ ...e, sequence: 0n }));
        await Promise.all([appendChecked(store, reconstructor, batch), reconstructor.getRunState(run).catch(() => undefined)]);
        const upTo = Math.min(history.length, i + 1 + (seed % 4));
        expectSameState((await reconstructor.getRunState(run)).state, stateOf(run, history.slice(0, upTo)));
      }
    }
  });
});
