// Group commit (src/store/postgres/write-combiner.ts): appends from one store
// instance that arrive together are written by one append_events() call. Each
// member must still be answered as if it had been written alone: its own
// contiguous positions, its own conflict, its own retry result; and the global log
// holds exactly the acknowledged events, gapless. Both position modes.
import { afterEach, expect, it } from "vitest";
import { ConcurrencyConflictError, EventIdConflictError } from "../../src/errors.js";
import { createPostgresEventStore, type PositionMode, type PostgresEventStore } from "../../src/store/postgres/postgres-event-store.js";
import { newId, stepStarted, uniqueRunId, workflowStarted } from "../support/events.js";
import { describePostgres, useTestDatabase } from "../support/postgres.js";
import { readWholeLog } from "../support/read-log.js";

const modes: PositionMode[] = ["serialized", "xid-gated"];

describePostgres("PostgreSQL store: group commit", () => {
  const db = useTestDatabase("combiner");
  const opened: PostgresEventStore[] = [];

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });

  async function open(positions: PositionMode): Promise<PostgresEventStore> {
    // A small pool: two groups in flight, so most appends of a burst queue and are combined.
    const store = await createPostgresEventStore({ connectionString: db.url, schema: db.newSchema(positions.replace("-", "_")), positions, poolSize: 3 });
    opened.push(store);
    return store;
  }

  for (const positions of modes) {
    it(`[${positions}] a burst of appends to distinct runs: each gets its own contiguous positions, the log holds them all once`, async () => {
      const store = await open(positions);
      const runs = Array.from({ length: 60 }, (_, i) => uniqueRunId(`burst${i}`));
      const results = await Promise.all(runs.map((runId, i) => store.append([workflowStarted(runId), ...Array.from({ length: i % 4 }, () => stepStarted(runId))])));
      const positionsSeen = new Set<bigint>();
      results.forEach((result, i) => {
        expect(result.duplicate).toBe(false);
        expect(result.events.map((e) => e.sequence)).toEqual(Array.from({ length: 1 + (i % 4) }, (_, k) => BigInt(k + 1)));
        const first = result.events[0]!.position;
        expect(result.events.map((e) => e.position)).toEqual(result.events.map((_, k) => first + BigInt(k)));
        expect(result.stored?.map((e) => e.position)).toEqual(result.events.map((e) => e.position));
        for (const e of result.events) positionsSeen.add(e.position);
      });
      const log = await readWholeLog(store, 1000);
      expect(log.map((e) => e.position)).toEqual(Array.from({ length: log.length }, (_, k) => BigInt(k + 1)));
      expect(new Set(log.map((e) => e.position))).toEqual(positionsSeen);
    });

    it(`[${positions}] a member that conflicts fails alone; the others of its burst are stored`, async () => {
      const store = await open(positions);
      const runs = Array.from({ length: 24 }, (_, i) => uniqueRunId(`mixed${i}`));
      const reusedId = newId();
      const retried = stepStarted(runs[2]!, {}, { id: newId() });
      await Promise.all(runs.map((runId) => store.append([workflowStarted(runId, {}, runId === runs[1] ? { id: reusedId } : {})])));
      await store.append([stepStarted(runs[2]!)]);
      const outcomes = await Promise.allSettled(
        runs.map((runId, i) => {
          if (i === 0) return store.append([stepStarted(runId)], { expected: new Map([[runId, 5n]]) }); // stale expectation
          if (i === 1) return store.append([stepStarted(runs[3]!, {}, { id: reusedId })]); // an ID stored for another event
          if (i === 2) return store.append([retried]).then(() => store.append([retried])); // exact retry: a duplicate
          return store.append([stepStarted(runId)]);
        }),
      );
      expect(outcomes[0]).toMatchObject({ status: "rejected", reason: expect.any(ConcurrencyConflictError) });
      expect((outcomes[0] as PromiseRejectedResult).reason).toMatchObject({ expected: 5n, actual: 1n });
      expect(outcomes[1]).toMatchObject({ status: "rejected", reason: expect.any(EventIdConflictError) });
      expect(outcomes[2]).toMatchObject({ status: "fulfilled", value: { duplicate: true } });
      for (const o of outcomes.slice(3)) expect(o).toMatchObject({ status: "fulfilled", value: { duplicate: false } });
      for (const runId of runs.slice(3)) expect(await store.getLastSequence(runId)).toBe(2n);
      expect(await store.getLastSequence(runs[0]!)).toBe(1n);
      expect(await store.getLastSequence(runs[1]!)).toBe(1n);
      expect(await store.getLastSequence(runs[2]!)).toBe(3n);
      const log = await readWholeLog(store, 1000);
      expect(log.map((e) => e.position)).toEqual(Array.from({ length: log.length }, (_, k) => BigInt(k + 1)));
    });
  }
});
