// Skene's acceptance rules (SEED-SYSTEMS.md S1), one named case each.
import { create } from "@bufbuild/protobuf";
import { TimestampSchema } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { ConcurrencyConflictError, EventIdConflictError, InvalidArgumentError } from "../../../src/errors.js";
import {
  newId,
  oneOfEveryType,
  stepCompleted,
  stepStarted,
  uniqueRunId,
  workflowStarted,
} from "../../support/events.js";
import {
  loadAll,
  normalized,
  range,
  readAll,
  rejection,
  sequenced,
  sequences,
  stateOf,
  unsequenced,
  type ContractContext,
} from "./harness.js";

export function s1Acceptance(ctx: ContractContext): void {
  describe("S1 (Skene acceptance rules)", () => {
    it("S1: Load of an unknown run returns an empty list", async () => {
      const result = await ctx.store().load(uniqueRunId("unknown"));
      expect(result.events).toEqual([]);
      expect(result.hasMore).toBe(false);
      expect(result.nextAfterSequence).toBe(0n);
    });

    it("S1: Load of an empty run returns an empty list (a failed first append leaves the run empty)", async () => {
      const store = ctx.store();
      const runId = uniqueRunId("empty");
      await rejection(store.append(sequenced(runId, 1, 2)), ConcurrencyConflictError);
      expect((await store.load(runId)).events).toEqual([]);
      expect((await store.load(runId, { afterSequence: 5n })).events).toEqual([]);
    });

    it("S1: GetLastSequence of an empty run returns 0", async () => {
      const store = ctx.store();
      expect(await store.getLastSequence(uniqueRunId("unknown"))).toBe(0n);
      const runId = uniqueRunId("failed-first");
      await rejection(store.append(sequenced(runId, 1, 7)), ConcurrencyConflictError);
      expect(await store.getLastSequence(runId)).toBe(0n);
    });

    it("S1: GetLastSequence returns the last appended sequence", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      await store.append(sequenced(runId, 3));
      expect(await store.getLastSequence(runId)).toBe(3n);
      await store.append(sequenced(runId, 2, 4));
      expect(await store.getLastSequence(runId)).toBe(5n);
    });

    it("S1: Load returns events sorted by sequence", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      const other = uniqueRunId("other");
      // Interleave with another run so that positions and sequences differ.
      await store.append(sequenced(runId, 2));
      await store.append(sequenced(other, 3));
      await store.append([...sequenced(runId, 2, 3), ...sequenced(other, 1, 4)]);
      await store.append(sequenced(runId, 1, 5));
      const events = await loadAll(store, runId);
      expect(sequences(events)).toEqual(range(1n, 5));
      expect(events.every((e) => e.runId === runId)).toBe(true);
      for (let i = 1; i < events.length; i++) expect(events[i]!.position).toBeGreaterThan(events[i - 1]!.position);
    });

    it("S1: LoadSince returns only the events after the given sequence", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      await store.append(sequenced(runId, 6));
      expect(sequences((await store.load(runId, { afterSequence: 4n })).events)).toEqual([5n, 6n]);
      expect(sequences((await store.load(runId, { afterSequence: 0n })).events)).toEqual(range(1n, 6));
      expect((await store.load(runId, { afterSequence: 6n })).events).toEqual([]);
      const beyond = await store.load(runId, { afterSequence: 99n });
      expect(beyond.events).toEqual([]);
      expect(beyond.hasMore).toBe(false);
    });

    it("S1: sequences are gapless and monotonically increasing", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      await store.append(sequenced(runId, 2));
      await store.append(unsequenced(runId, 3));
      await store.append([...sequenced(runId, 1, 6), ...unsequenced(runId, 2)]);
      await store.append([stepStarted(runId, {}, { sequence: 0 })]);
      const events = await loadAll(store, runId);
      expect(sequences(events)).toEqual(range(1n, 9));
      expect(await store.getLastSequence(runId)).toBe(9n);
    });

    it.each([
      { label: "a repeat of the last sequence", sequence: 3, expected: 2n },
      { label: "a gap after the last sequence", sequence: 5, expected: 4n },
      { label: "sequence 1 on a run that has events", sequence: 1, expected: 0n },
      { label: "a far-future sequence", sequence: 1_000_000, expected: 999_999n },
    ])("S1: Append fails if sequence != last + 1 ($label)", async ({ sequence, expected }) => {
      const store = ctx.store();
      const runId = uniqueRunId();
      await store.append(sequenced(runId, 3));
      const before = await stateOf(store, [runId]);
      const error = await rejection(store.append([stepStarted(runId, {}, { sequence })]), ConcurrencyConflictError);
      expect(error.runId).toBe(runId);
      expect(error.expected).toBe(expected);
      expect(error.actual).toBe(3n);
      expect(await stateOf(store, [runId])).toEqual(before);
    });

    it("S1: Append succeeds if sequence == last + 1", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      const first = await store.append(sequenced(runId, 1));
      expect(first.events[0]!.sequence).toBe(1n);
      const second = await store.append(sequenced(runId, 1, 2));
      expect(second.events[0]!.sequence).toBe(2n);
      expect(second.duplicate).toBe(false);
    });

    it("S1: AppendBatch is atomic", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      const other = uniqueRunId("other");
      await store.append(sequenced(runId, 2));
      const before = await stateOf(store, [runId, other]);
      // In each batch the last event is bad; nothing of the batch may be stored.
      const existingId = (await loadAll(store, runId))[0]!.id;
      await rejection(
        store.append([...sequenced(runId, 2, 3), ...sequenced(other, 2), stepStarted(runId, {}, { sequence: 3 })]),
        InvalidArgumentError,
      );
      await rejection(store.append([...sequenced(other, 2), ...sequenced(runId, 2, 2)]), ConcurrencyConflictError);
      await rejection(
        store.append([...sequenced(other, 2), ...sequenced(runId, 1, 3), stepStarted(runId, {}, { id: existingId })]),
        EventIdConflictError,
      );
      expect(await stateOf(store, [runId, other])).toEqual(before);
      // And a good batch is stored whole.
      const result = await store.append([...sequenced(runId, 2, 3), ...sequenced(other, 2)]);
      expect(result.events).toHaveLength(4);
      expect(sequences(await loadAll(store, runId))).toEqual(range(1n, 4));
      expect(sequences(await loadAll(store, other))).toEqual(range(1n, 2));
    });

    it("S1: appending an event whose ID already exists fails", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      const id = newId();
      const other = uniqueRunId("other");
      await store.append([stepStarted(runId, {}, { id, sequence: 1, stepName: "a" })]);
      const before = await stateOf(store, [runId, other]);
      // Same ID, a different event (next sequence, another step).
      const error = await rejection(
        store.append([stepStarted(runId, {}, { id, sequence: 2, stepName: "b" })]),
        EventIdConflictError,
      );
      expect(error.eventId).toBe(id);
      expect(error.runId).toBe(runId);
      expect(error.sequence).toBe(1n);
      // Same ID in another run.
      const across = await rejection(store.append([stepStarted(other, {}, { id, stepName: "a" })]), EventIdConflictError);
      expect(across.runId).toBe(runId);
      expect(await stateOf(store, [runId, other])).toEqual(before);
    });

    it("S1: concurrent appends to different runs succeed", async () => {
      const store = ctx.store();
      const runIds = Array.from({ length: 20 }, (_, i) => uniqueRunId(`concurrent-${i}`));
      const head = await store.headPosition();
      await Promise.all(
        runIds.map(async (runId) => {
          for (let s = 1; s <= 10; s++) await store.append(sequenced(runId, 1, s));
        }),
      );
      for (const runId of runIds) expect(sequences(await loadAll(store, runId))).toEqual(range(1n, 10));
      const log = await readAll(store, undefined, head);
      expect(log.map((e) => e.position)).toEqual(range(head + 1n, 200));
    });

    it("S1: concurrent appends to one run with correct sequences succeed", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      const writers = 10;
      const perWriter = 5;
      // Each writer appends last + 1 and, when another writer got there first, reads again.
      await Promise.all(
        Array.from({ length: writers }, async (_, w) => {
          for (let n = 0; n < perWriter; n++) {
            for (let attempt = 0; ; attempt++) {
              expect(attempt).toBeLessThan(1000);
              const last = await store.getLastSequence(runId);
              try {
                await store.append([stepStarted(runId, {}, { sequence: last + 1n, stepName: `w${w}-${n}` })]);
                break;
              } catch (error) {
                if (!(error instanceof ConcurrencyConflictError)) throw error;
              }
            }
          }
        }),
      );
      const events = await loadAll(store, runId);
      expect(sequences(events)).toEqual(range(1n, writers * perWriter));
      expect(new Set(events.map((e) => e.stepName)).size).toBe(writers * perWriter);
    });

    it("S1: concurrent readers and writers see consistent state (no gap, no half batch)", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      let writing = true;
      const writer = (async () => {
        try {
          for (let i = 0; i < 40; i++) await store.append(unsequenced(runId, 2));
        } finally {
          writing = false;
        }
      })();
      const reader = async () => {
        let reads = 0;
        while (writing || reads === 0) {
          reads++;
          const events = await loadAll(store, runId);
          expect(events.length % 2).toBe(0);
          expect(sequences(events)).toEqual(range(1n, events.length));
          const last = await store.getLastSequence(runId);
          expect(last).toBeGreaterThanOrEqual(BigInt(events.length));
        }
      };
      await Promise.all([writer, reader(), reader(), reader()]);
      expect(sequences(await loadAll(store, runId))).toEqual(range(1n, 80));
    });

    it("S1: every event type round-trips through the store unchanged", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      const input = oneOfEveryType(runId);
      const result = await store.append(input);
      const events = await loadAll(store, runId);
      expect(events).toHaveLength(input.length);
      events.forEach((stored, i) => {
        expect(stored.position).toBe(result.events[i]!.position);
        expect(stored).toEqual(normalized(input[i]!, stored));
      });
    });

    it("S1: Load of one run never returns another run's events (table of run IDs)", async () => {
      const store = ctx.store();
      const base = uniqueRunId();
      const ids = [base, `${base}-x`, `${base}x`, base.toUpperCase(), `${base} `, `ünïcödé-${base}`, `${base}/child`];
      for (const [i, runId] of ids.entries()) await store.append(sequenced(runId, i + 1));
      for (const [i, runId] of ids.entries()) {
        const events = await loadAll(store, runId);
        expect(events).toHaveLength(i + 1);
        expect(events.every((e) => e.runId === runId)).toBe(true);
      }
    });

    it("S1: Load returns the stored content of each event (output, metadata, timestamps)", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      const input = [
        workflowStarted(runId, { workflowName: "order", input: { n: 1 } }, { metadata: { "trace-id": "t1" } }),
        stepCompleted(runId, {}, {
          stepName: "charge",
          output: { paid: 12.5, tags: ["a"] },
          timestamp: create(TimestampSchema, { seconds: 1_700_000_000n, nanos: 123_456_789 }),
        }),
      ];
      await store.append(input);
      const events = await loadAll(store, runId);
      expect(events[0]).toEqual(normalized(input[0]!, events[0]!));
      expect(events[1]).toEqual(normalized(input[1]!, events[1]!));
      expect(events[1]!.timestamp?.nanos).toBe(123_456_789);
    });
  });
}
