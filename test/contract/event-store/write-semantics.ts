// ARCHITECTURE §4: numbering, expected sequences, the race, idempotent retries,
// ID conflicts, atomic multi-run batches, global positions, normalization.
import { create } from "@bufbuild/protobuf";
import { TimestampSchema } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { EventType, type Event } from "../../../gen/runlog/v1/event_pb.js";
import { ConcurrencyConflictError, EventIdConflictError, InvalidArgumentError } from "../../../src/errors.js";
import {
  childSpawned,
  newId,
  stepCompleted,
  stepStarted,
  uniqueRunId,
  workflowStarted,
} from "../../support/events.js";
import {
  loadAll,
  normalized,
  positions,
  range,
  readAll,
  rejection,
  sequenced,
  sequences,
  stateOf,
  unsequenced,
  type ContractContext,
} from "./harness.js";

const uuidV7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export function writeSemantics(ctx: ContractContext): void {
  describe("§4 server-assigned sequences and normalization", () => {
    it("assigns last + 1, last + 2, … to events with sequence 0", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      const first = await store.append(unsequenced(runId, 3));
      expect(first.events.map((e) => e.sequence)).toEqual([1n, 2n, 3n]);
      const second = await store.append(unsequenced(runId, 2));
      expect(second.events.map((e) => e.sequence)).toEqual([4n, 5n]);
    });

    it("mixes given and assigned sequences in one batch", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      await store.append(sequenced(runId, 2));
      const result = await store.append([
        stepStarted(runId, {}, { sequence: 0 }),
        stepStarted(runId, {}, { sequence: 4 }),
        stepStarted(runId, {}, { sequence: 0 }),
      ]);
      expect(result.events.map((e) => e.sequence)).toEqual([3n, 4n, 5n]);
    });

    it("assigns a UUIDv7 id, version 1, the payload's type and a timestamp; keeps what the client gave", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      const clientId = newId().toUpperCase();
      const clientTimestamp = create(TimestampSchema, { seconds: 1_600_000_000n, nanos: 1 });
      const before = Date.now();
      const result = await store.append([
        stepStarted(runId, {}, {}),
        stepStarted(runId, {}, { id: clientId, version: 3, type: EventType.STEP_STARTED, timestamp: clientTimestamp }),
      ]);
      const after = Date.now();
      const [assigned, given] = await loadAll(store, runId);
      expect(assigned!.id).toMatch(uuidV7);
      expect(result.events[0]!.id).toBe(assigned!.id);
      expect(assigned!.version).toBe(1);
      expect(assigned!.type).toBe(EventType.STEP_STARTED);
      const ms = Number(assigned!.timestamp!.seconds) * 1000 + assigned!.timestamp!.nanos / 1e6;
      // The store's clock, not the test's: allow a generous skew.
      expect(ms).toBeGreaterThanOrEqual(before - 60_000);
      expect(ms).toBeLessThanOrEqual(after + 60_000);
      expect(given!.id).toBe(clientId.toLowerCase());
      expect(result.events[1]!.id).toBe(clientId.toLowerCase());
      expect(given!.version).toBe(3);
      expect(given!.timestamp).toEqual(clientTimestamp);
    });

    it("server-assigned IDs are unique", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      const count = Math.min(200, ctx.limits.maxBatchEvents);
      const result = await store.append(unsequenced(runId, count));
      expect(new Set(result.events.map((e) => e.id)).size).toBe(count);
    });

    it("never changes the caller's event objects", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      const input = unsequenced(runId, 2);
      await store.append(input);
      for (const event of input) {
        expect(event.id).toBe("");
        expect(event.sequence).toBe(0n);
        expect(event.version).toBe(0);
        expect(event.type).toBe(EventType.UNSPECIFIED);
        expect(event.timestamp).toBeUndefined();
        expect(event.position).toBe(0n);
      }
    });

    it("ignores a position given on input", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      const event = stepStarted(runId);
      event.position = 999n;
      const head = await store.headPosition();
      const result = await store.append([event]);
      expect(result.events[0]!.position).toBe(head + 1n);
      expect((await loadAll(store, runId))[0]!.position).toBe(head + 1n);
    });

    it("concurrent appends with server-assigned sequences all succeed, gapless", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      const results = await Promise.all(Array.from({ length: 20 }, () => store.append(unsequenced(runId, 2))));
      const assigned = results.flatMap((r) => r.events.map((e) => e.sequence)).sort((a, b) => (a < b ? -1 : 1));
      expect(assigned).toEqual(range(1n, 40));
      // Each batch got consecutive sequences.
      for (const r of results) expect(r.events[1]!.sequence).toBe(r.events[0]!.sequence + 1n);
      expect(sequences(await loadAll(store, runId))).toEqual(range(1n, 40));
    });
  });

  describe("§4 expected last sequence", () => {
    it("0 means the run must not exist yet", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      const expected = new Map([[runId, 0n]]);
      await store.append(unsequenced(runId, 2), { expected });
      const before = await stateOf(store, [runId]);
      const error = await rejection(store.append(unsequenced(runId, 1), { expected }), ConcurrencyConflictError);
      expect(error.runId).toBe(runId);
      expect(error.expected).toBe(0n);
      expect(error.actual).toBe(2n);
      expect(await stateOf(store, [runId])).toEqual(before);
    });

    it("a matching expectation stores; a stale one is ConcurrencyConflictError with expected and actual", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      await store.append(unsequenced(runId, 3));
      const ok = await store.append(unsequenced(runId, 1), { expected: new Map([[runId, 3n]]) });
      expect(ok.events[0]!.sequence).toBe(4n);
      for (const stale of [3n, 5n, 0n, 100n]) {
        const error = await rejection(
          store.append(unsequenced(runId, 1), { expected: new Map([[runId, stale]]) }),
          ConcurrencyConflictError,
        );
        expect({ runId: error.runId, expected: error.expected, actual: error.actual }).toEqual({
          runId,
          expected: stale,
          actual: 4n,
        });
      }
      expect(await store.getLastSequence(runId)).toBe(4n);
    });

    it("a non-zero expectation on an unknown run fails with actual 0", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      const error = await rejection(
        store.append(unsequenced(runId, 1), { expected: new Map([[runId, 2n]]) }),
        ConcurrencyConflictError,
      );
      expect(error.expected).toBe(2n);
      expect(error.actual).toBe(0n);
      expect(await store.getLastSequence(runId)).toBe(0n);
    });

    it("works together with client-given sequences", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      await store.append(sequenced(runId, 2), { expected: new Map([[runId, 0n]]) });
      await store.append(sequenced(runId, 1, 3), { expected: new Map([[runId, 2n]]) });
      const error = await rejection(
        store.append(sequenced(runId, 1, 4), { expected: new Map([[runId, 2n]]) }),
        ConcurrencyConflictError,
      );
      expect(error.actual).toBe(3n);
    });

    it("per-run expectations of a batch are all checked before anything is stored", async () => {
      const store = ctx.store();
      const a = uniqueRunId("a");
      const b = uniqueRunId("b");
      const c = uniqueRunId("c");
      await store.append([...unsequenced(a, 2), ...unsequenced(b, 1), ...unsequenced(c, 1)]);
      const before = await stateOf(store, [a, b, c]);
      // a and b hold; c does not (c is not even in the batch: an expectation is a precondition).
      const error = await rejection(
        store.append([...unsequenced(a, 1), ...unsequenced(b, 1)], {
          expected: new Map([
            [a, 2n],
            [b, 1n],
            [c, 5n],
          ]),
        }),
        ConcurrencyConflictError,
      );
      expect(error.runId).toBe(c);
      expect(error.actual).toBe(1n);
      expect(await stateOf(store, [a, b, c])).toEqual(before);
      await store.append([...unsequenced(a, 1), ...unsequenced(b, 1)], {
        expected: new Map([
          [a, 2n],
          [b, 1n],
          [c, 1n],
        ]),
      });
      expect(await store.getLastSequence(a)).toBe(3n);
      expect(await store.getLastSequence(b)).toBe(2n);
    });

    it("race: 20 writers with the same expectation, exactly one wins", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      await store.append(unsequenced(runId, 2));
      const writers = 20;
      // Writers append batches of different sizes, so `actual` identifies the winner.
      const outcomes = await Promise.allSettled(
        Array.from({ length: writers }, (_, w) =>
          store.append(unsequenced(runId, (w % 3) + 1, { stepName: `writer-${w}` }), { expected: new Map([[runId, 2n]]) }),
        ),
      );
      const winners = outcomes.flatMap((o, w) => (o.status === "fulfilled" ? [{ w, result: o.value }] : []));
      expect(winners).toHaveLength(1);
      const winner = winners[0]!;
      const winnerLast = 2n + BigInt((winner.w % 3) + 1);
      expect(winner.result.events.at(-1)!.sequence).toBe(winnerLast);
      for (const outcome of outcomes) {
        if (outcome.status === "fulfilled") continue;
        const error: unknown = outcome.reason;
        expect(error).toBeInstanceOf(ConcurrencyConflictError);
        const conflict = error as ConcurrencyConflictError;
        expect(conflict.runId).toBe(runId);
        expect(conflict.expected).toBe(2n);
        expect(conflict.actual).toBe(winnerLast);
      }
      const events = await loadAll(store, runId);
      expect(sequences(events)).toEqual(range(1n, Number(winnerLast)));
      expect(events.slice(2).every((e) => e.stepName === `writer-${winner.w}`)).toBe(true);
    });

    it("race: 20 writers giving the same next sequence, exactly one wins", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      await store.append(sequenced(runId, 1));
      const outcomes = await Promise.allSettled(
        Array.from({ length: 20 }, (_, w) => store.append([stepStarted(runId, {}, { sequence: 2, stepName: `w${w}` })])),
      );
      expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
      for (const o of outcomes) {
        if (o.status === "fulfilled") continue;
        expect(o.reason).toBeInstanceOf(ConcurrencyConflictError);
        expect((o.reason as ConcurrencyConflictError).expected).toBe(1n);
        expect((o.reason as ConcurrencyConflictError).actual).toBe(2n);
      }
      expect(await store.getLastSequence(runId)).toBe(2n);
    });
  });

  describe("§4 idempotent retries and event ID conflicts", () => {
    it("an exact retry of one event returns the original result and stores nothing", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      await store.append(unsequenced(runId, 2));
      const event = stepCompleted(runId, {}, { id: newId(), stepName: "charge", output: { ok: true } });
      const original = await store.append([event]);
      expect(original.duplicate).toBe(false);
      const head = await store.headPosition();
      const before = await stateOf(store, [runId]);
      const retry = await store.append([event]);
      expect(retry.duplicate).toBe(true);
      expect(retry.events).toEqual(original.events);
      expect(await store.headPosition()).toBe(head);
      expect(await stateOf(store, [runId])).toEqual(before);
    });

    it("an exact retry of a multi-run batch returns the same positions and stores nothing", async () => {
      const store = ctx.store();
      const a = uniqueRunId("a");
      const b = uniqueRunId("b");
      const batch = [...sequenced(a, 2), ...sequenced(b, 1)].map((e) => {
        e.id = newId();
        return e;
      });
      const original = await store.append(batch);
      const head = await store.headPosition();
      const retry = await store.append(batch);
      expect(retry.duplicate).toBe(true);
      expect(retry.events).toEqual(original.events);
      expect(await store.headPosition()).toBe(head);
      expect(sequences(await loadAll(store, a))).toEqual([1n, 2n]);
    });

    it("a retry matches when the first attempt left sequence and timestamp to the store", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      const batch = unsequenced(runId, 3).map((e) => {
        e.id = newId();
        return e;
      });
      const original = await store.append(batch);
      await store.append(unsequenced(runId, 1)); // the run moved on
      const retry = await store.append(batch);
      expect(retry).toEqual({ events: original.events, duplicate: true });
      // An uppercase spelling of the same IDs is the same event.
      const upper = unsequenced(runId, 3).map((e, i) => {
        e.id = batch[i]!.id.toUpperCase();
        return e;
      });
      expect((await store.append(upper)).duplicate).toBe(true);
      expect(await store.getLastSequence(runId)).toBe(4n);
    });

    it("a retry returns the original result even when its expectation no longer holds", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      const event = workflowStarted(runId, {}, { id: newId() });
      const expected = new Map([[runId, 0n]]);
      const original = await store.append([event], { expected });
      await store.append(unsequenced(runId, 1));
      const retry = await store.append([event], { expected });
      expect(retry).toEqual({ events: original.events, duplicate: true });
    });

    it.each([
      { label: "another step name", change: (e: Event) => void (e.stepName = "other") },
      { label: "another run", change: (e: Event) => void (e.runId = `${e.runId}-other`) },
      { label: "another sequence", change: (e: Event) => void (e.sequence = 2n) },
      { label: "other metadata", change: (e: Event) => void (e.metadata = { k: "v" }) },
      { label: "another version", change: (e: Event) => void (e.version = 7) },
      { label: "another timestamp", change: (e: Event) => void (e.timestamp = create(TimestampSchema, { seconds: 1n })) },
    ])("the same ID for a different event ($label) is EventIdConflictError", async ({ change }) => {
      const store = ctx.store();
      const runId = uniqueRunId();
      const id = newId();
      const stored = stepStarted(runId, { attempt: 1 }, { id, stepName: "charge", sequence: 1 });
      await store.append([stored]);
      const before = await stateOf(store, [runId, `${runId}-other`]);
      const different = stepStarted(runId, { attempt: 1 }, { id, stepName: "charge", sequence: 1 });
      change(different);
      const error = await rejection(store.append([different]), EventIdConflictError);
      expect({ eventId: error.eventId, runId: error.runId, sequence: error.sequence }).toEqual({ eventId: id, runId, sequence: 1n });
      expect(await stateOf(store, [runId, `${runId}-other`])).toEqual(before);
    });

    it("the same ID with another payload is EventIdConflictError", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      const id = newId();
      await store.append([stepStarted(runId, { attempt: 1 }, { id })]);
      await rejection(store.append([stepStarted(runId, { attempt: 2 }, { id })]), EventIdConflictError);
      await rejection(store.append([stepCompleted(runId, {}, { id, stepName: "step" })]), EventIdConflictError);
      expect(await store.getLastSequence(runId)).toBe(1n);
    });

    it("a partly stored batch is rejected and stores nothing", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      const first = stepStarted(runId, {}, { id: newId(), stepName: "a" });
      await store.append([first]);
      const before = await stateOf(store, [runId]);
      const fresh = stepStarted(runId, {}, { id: newId(), stepName: "b" });
      // The stored event first, then a new one; and the other way round; and with a server-assigned ID.
      for (const batch of [[first, fresh], [fresh, first], [first, stepStarted(runId, {}, { stepName: "c" })]]) {
        const error = await rejection(store.append(batch), EventIdConflictError);
        expect(error.eventId).toBe(first.id);
        expect(error.sequence).toBe(1n);
      }
      expect(await stateOf(store, [runId])).toEqual(before);
    });

    it("an ID used twice in one batch is InvalidArgumentError naming the second", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      const id = newId();
      const error = await rejection(
        store.append([stepStarted(runId, {}, { id }), stepStarted(runId, {}, { id: id.toUpperCase(), stepName: "x" })]),
        InvalidArgumentError,
      );
      expect(error.field).toBe("events[1].id");
      expect(await store.getLastSequence(runId)).toBe(0n);
    });
  });

  describe("§4 atomic multi-run batches and global positions", () => {
    it("stores child.spawned in the parent and workflow.started in the child together", async () => {
      const store = ctx.store();
      const parent = uniqueRunId("parent");
      const child = uniqueRunId("child");
      await store.append([workflowStarted(parent, { workflowName: "order" })]);
      const head = await store.headPosition();
      const result = await store.append(
        [
          childSpawned(parent, { childRunId: child, workflowName: "ship", input: { to: "x" } }),
          workflowStarted(child, { workflowName: "ship", input: { to: "x" } }, { metadata: { parent } }),
        ],
        {
          expected: new Map([
            [parent, 1n],
            [child, 0n],
          ]),
        },
      );
      expect(result.events.map((e) => [e.runId, e.sequence, e.position])).toEqual([
        [parent, 2n, head + 1n],
        [child, 1n, head + 2n],
      ]);
      expect((await loadAll(store, parent)).map((e) => e.type)).toEqual([EventType.WORKFLOW_STARTED, EventType.CHILD_SPAWNED]);
      expect((await loadAll(store, child)).map((e) => e.type)).toEqual([EventType.WORKFLOW_STARTED]);
    });

    it("a failing multi-run batch stores nothing in either run", async () => {
      const store = ctx.store();
      const parent = uniqueRunId("parent");
      const child = uniqueRunId("child");
      await store.append([workflowStarted(parent), workflowStarted(child)]);
      const before = await stateOf(store, [parent, child]);
      const batch = () => [childSpawned(parent, { childRunId: child }), workflowStarted(child, { workflowName: "ship" })];
      // The child exists already: its expectation fails.
      await rejection(
        store.append(batch(), { expected: new Map([[parent, 1n], [child, 0n]]) }),
        ConcurrencyConflictError,
      );
      // The child's given sequence is wrong.
      const wrongSequence = batch();
      wrongSequence[1]!.sequence = 1n;
      await rejection(store.append(wrongSequence), ConcurrencyConflictError);
      // The child's event is invalid.
      const invalid = batch();
      invalid[1]!.runId = "";
      const error = await rejection(store.append(invalid), InvalidArgumentError);
      expect(error.field).toBe("events[1].run_id");
      expect(await stateOf(store, [parent, child])).toEqual(before);
    });

    it("stores a batch in input order with consecutive positions, even when runs interleave", async () => {
      const store = ctx.store();
      const a = uniqueRunId("a");
      const b = uniqueRunId("b");
      const head = await store.headPosition();
      const result = await store.append([stepStarted(a), stepStarted(b), stepStarted(a), stepStarted(b), stepStarted(b)]);
      expect(result.events.map((e) => e.runId)).toEqual([a, b, a, b, b]);
      expect(result.events.map((e) => e.sequence)).toEqual([1n, 1n, 2n, 2n, 3n]);
      expect(result.events.map((e) => e.position)).toEqual(range(head + 1n, 5));
      const log = await readAll(store, undefined, head);
      expect(log.map((e) => [e.runId, e.sequence])).toEqual(result.events.map((e) => [e.runId, e.sequence]));
    });

    it("global positions are 1-based and gapless across runs", async () => {
      const store = ctx.store();
      expect(await store.headPosition()).toBe(0n);
      const runs = [uniqueRunId("a"), uniqueRunId("b"), uniqueRunId("c")];
      const returned: bigint[] = [];
      for (let i = 0; i < 12; i++) {
        const result = await store.append(unsequenced(runs[i % 3]!, (i % 2) + 1));
        returned.push(...result.events.map((e) => e.position));
      }
      // Failed appends consume no position.
      await rejection(store.append(sequenced(runs[0]!, 1, 1)), ConcurrencyConflictError);
      await store.append(unsequenced(runs[1]!, 1)).then((r) => returned.push(r.events[0]!.position));
      expect(returned).toEqual(range(1n, 19));
      expect(await store.headPosition()).toBe(19n);
      const log = await readAll(store);
      expect(positions(log)).toEqual(range(1n, 19));
      // Loaded events carry the same positions.
      const loaded = (await Promise.all(runs.map((r) => loadAll(store, r)))).flat();
      expect(positions(loaded).sort((x, y) => (x < y ? -1 : 1))).toEqual(range(1n, 19));
    });

    it("returned and read events agree on id, run, sequence and position", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      const input = [workflowStarted(runId), ...unsequenced(runId, 3)];
      const result = await store.append(input);
      const loaded = await loadAll(store, runId);
      expect(loaded.map((e) => ({ id: e.id, runId: e.runId, sequence: e.sequence, position: e.position }))).toEqual(
        result.events,
      );
      loaded.forEach((e, i) => expect(e).toEqual(normalized(input[i]!, e)));
    });
  });
}
