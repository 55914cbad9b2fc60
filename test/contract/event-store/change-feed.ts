// onAppend: the change feed every subscription is built on. A listener sees
// every event committed after it was added exactly once, in position order.
// Stores may call listeners later than append() resolves (e.g. PostgreSQL
// notifications), so the cases wait for deliveries instead of assuming timing.
import { describe, expect, it, vi } from "vitest";
import type { Event } from "../../../gen/runlog/v1/event_pb.js";
import { ConcurrencyConflictError } from "../../../src/errors.js";
import { newId, stepStarted, uniqueRunId } from "../../support/events.js";
import { positions, range, rejection, unsequenced, type ContractContext } from "./harness.js";

const waitOptions = { timeout: 10_000, interval: 5 };

/** A listener that records what it is given. */
function recorder(): { events: Event[]; calls: number; listener: (events: readonly Event[]) => void } {
  const rec = {
    events: [] as Event[],
    calls: 0,
    listener: (events: readonly Event[]) => {
      rec.calls++;
      rec.events.push(...events);
    },
  };
  return rec;
}

export function changeFeed(ctx: ContractContext): void {
  describe("onAppend change feed", () => {
    it("delivers every appended event once, in position order, with positions set", async () => {
      const store = ctx.store();
      const head = await store.headPosition();
      const rec = recorder();
      store.onAppend(rec.listener);
      const a = uniqueRunId("a");
      const b = uniqueRunId("b");
      const r1 = await store.append(unsequenced(a, 2));
      const r2 = await store.append([...unsequenced(b, 1), ...unsequenced(a, 1)]);
      await vi.waitFor(() => expect(rec.events).toHaveLength(4), waitOptions);
      expect(positions(rec.events)).toEqual(range(head + 1n, 4));
      expect(rec.events.map((e) => ({ id: e.id, runId: e.runId, sequence: e.sequence, position: e.position }))).toEqual([
        ...r1.events,
        ...r2.events,
      ]);
    });

    it("delivers every event once in position order under concurrent writers", async () => {
      const store = ctx.store();
      const head = await store.headPosition();
      const rec = recorder();
      store.onAppend(rec.listener);
      const runIds = Array.from({ length: 8 }, (_, i) => uniqueRunId(`w${i}`));
      await Promise.all(
        runIds.map(async (runId, w) => {
          for (let i = 0; i < 10; i++) await store.append(unsequenced(runId, (w % 3) + 1));
        }),
      );
      const total = runIds.reduce((n, _, w) => n + 10 * ((w % 3) + 1), 0);
      await vi.waitFor(() => expect(rec.events.length).toBeGreaterThanOrEqual(total), waitOptions);
      expect(positions(rec.events)).toEqual(range(head + 1n, total));
      // Within each run, sequences in order and gapless.
      for (const runId of runIds) {
        const seqs = rec.events.filter((e) => e.runId === runId).map((e) => e.sequence);
        expect(seqs).toEqual(range(1n, seqs.length));
      }
    });

    it("stops after unsubscribe; other listeners go on", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      const leaving = recorder();
      const staying = recorder();
      const unsubscribe = store.onAppend(leaving.listener);
      store.onAppend(staying.listener);
      await store.append(unsequenced(runId, 2));
      await vi.waitFor(() => expect(leaving.events).toHaveLength(2), waitOptions);
      unsubscribe();
      unsubscribe(); // twice is harmless
      await store.append(unsequenced(runId, 3));
      await vi.waitFor(() => expect(staying.events).toHaveLength(5), waitOptions);
      expect(leaving.events).toHaveLength(2);
    });

    it("a listener that throws breaks neither the append nor the other listeners", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      store.onAppend(() => {
        throw new Error("listener bug");
      });
      const rec = recorder();
      store.onAppend(rec.listener);
      const result = await store.append(unsequenced(runId, 2));
      expect(result.events).toHaveLength(2);
      await store.append(unsequenced(runId, 1));
      await vi.waitFor(() => expect(rec.events).toHaveLength(3), waitOptions);
      expect(await store.getLastSequence(runId)).toBe(3n);
    });

    it("failed appends and idempotent retries deliver nothing", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      const event = stepStarted(runId, {}, { id: newId() });
      await store.append([event]);
      const rec = recorder();
      store.onAppend(rec.listener);
      expect((await store.append([event])).duplicate).toBe(true);
      await rejection(store.append(unsequenced(runId, 1), { expected: new Map([[runId, 0n]]) }), ConcurrencyConflictError);
      // A marker append: once it arrives, anything delivered for the calls above would have arrived before it.
      const marker = await store.append(unsequenced(runId, 1));
      await vi.waitFor(() => expect(rec.events.length).toBeGreaterThanOrEqual(1), waitOptions);
      expect(rec.events.map((e) => e.id)).toEqual([marker.events[0]!.id]);
    });

    it("a listener added later sees only later events", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      await store.append(unsequenced(runId, 3));
      const rec = recorder();
      store.onAppend(rec.listener);
      const later = await store.append(unsequenced(runId, 1));
      await vi.waitFor(() => expect(rec.events.length).toBeGreaterThanOrEqual(1), waitOptions);
      expect(positions(rec.events)).toEqual([later.events[0]!.position]);
    });
  });
}
