// store.snapshots: run states saved beside the events (never in a run's sequence).
import { describe, expect, it } from "vitest";
import type { StoredSnapshot } from "../../../src/store/snapshot-store.js";
import { uniqueRunId } from "../../support/events.js";
import { unsequenced, type ContractContext } from "./harness.js";

function snapshot(runId: string, sequence: bigint, reducerVersion: number, bytes: number[]): StoredSnapshot {
  return { runId, sequence, reducerVersion, state: new Uint8Array(bytes) };
}

export function snapshots(ctx: ContractContext): void {
  describe("snapshots", () => {
    it("latest of a run without snapshots is undefined", async () => {
      const store = ctx.store();
      expect(await store.snapshots.latest(uniqueRunId(), 100n, 1)).toBeUndefined();
    });

    it("latest returns the highest sequence at or before atOrBefore", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      // Saved out of order on purpose.
      await store.snapshots.save(snapshot(runId, 100n, 1, [1]));
      await store.snapshots.save(snapshot(runId, 50n, 1, [2]));
      await store.snapshots.save(snapshot(runId, 150n, 1, [3]));
      const at = async (n: bigint) => (await store.snapshots.latest(runId, n, 1))?.sequence;
      expect(await at(49n)).toBeUndefined();
      expect(await at(50n)).toBe(50n);
      expect(await at(99n)).toBe(50n);
      expect(await at(100n)).toBe(100n);
      expect(await at(149n)).toBe(100n);
      expect(await at(1000n)).toBe(150n);
      const latest = await store.snapshots.latest(runId, 1000n, 1);
      expect(latest).toEqual(snapshot(runId, 150n, 1, [3]));
      expect(latest!.state).toBeInstanceOf(Uint8Array);
    });

    it("a snapshot written by another reducer version is not returned", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      await store.snapshots.save(snapshot(runId, 10n, 1, [1]));
      await store.snapshots.save(snapshot(runId, 20n, 2, [2]));
      expect((await store.snapshots.latest(runId, 100n, 1))?.sequence).toBe(10n);
      expect((await store.snapshots.latest(runId, 100n, 2))?.sequence).toBe(20n);
      expect(await store.snapshots.latest(runId, 15n, 2)).toBeUndefined();
      expect(await store.snapshots.latest(runId, 100n, 3)).toBeUndefined();
    });

    it("saving the same run, sequence and version replaces the snapshot", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      await store.snapshots.save(snapshot(runId, 10n, 1, [1, 1]));
      await store.snapshots.save(snapshot(runId, 10n, 1, [2, 2, 2]));
      expect((await store.snapshots.latest(runId, 10n, 1))?.state).toEqual(new Uint8Array([2, 2, 2]));
    });

    it("snapshots are per run, kept apart from the caller's buffer, and never part of the events", async () => {
      const store = ctx.store();
      const a = uniqueRunId("a");
      const b = uniqueRunId("b");
      await store.append(unsequenced(a, 2));
      const bytes = new Uint8Array([7, 8, 9]);
      await store.snapshots.save({ runId: a, sequence: 2n, reducerVersion: 1, state: bytes });
      bytes[0] = 0;
      expect((await store.snapshots.latest(a, 2n, 1))?.state).toEqual(new Uint8Array([7, 8, 9]));
      expect(await store.snapshots.latest(b, 2n, 1)).toBeUndefined();
      expect(await store.getLastSequence(a)).toBe(2n);
      expect((await store.load(a)).events).toHaveLength(2);
      expect(await store.headPosition()).toBe(2n);
    });
  });
}
