// Several store instances on one schema, as several runlog servers on one database
// would be: the database, not one process, decides races; the global log has no
// skipped event even when a lower position commits late; an append through one
// instance reaches the change feed of another. Both position modes.
import { afterEach, expect, it, vi } from "vitest";
import type { Event } from "../../gen/runlog/v1/event_pb.js";
import { ConcurrencyConflictError } from "../../src/errors.js";
import type { AppendResult } from "../../src/store/event-store.js";
import {
  createPostgresEventStore,
  type PositionMode,
  type PostgresEventStore,
  type PostgresEventStoreOptions,
} from "../../src/store/postgres/postgres-event-store.js";
import { stepStarted, uniqueRunId } from "../support/events.js";
import { describePostgres, useTestDatabase, type TestDatabase } from "../support/postgres.js";
import { readWholeLog } from "../support/read-log.js";

const modes: PositionMode[] = ["serialized", "xid-gated"];
const waitOptions = { timeout: 10_000, interval: 5 };

describePostgres("PostgreSQL store: several instances on one database", () => {
  const db = useTestDatabase("multi");
  const opened: PostgresEventStore[] = [];

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });

  async function instances(
    count: number,
    positions: PositionMode,
    extra: Partial<PostgresEventStoreOptions> = {},
  ): Promise<{ schema: string; stores: PostgresEventStore[] }> {
    const schema = db.newSchema(positions.replace("-", "_"));
    const stores: PostgresEventStore[] = [];
    for (let i = 0; i < count; i++) {
      const store = await createPostgresEventStore({ connectionString: db.url, schema, positions, poolSize: 4, ...extra });
      opened.push(store);
      stores.push(store);
    }
    return { schema, stores };
  }

  function record(store: PostgresEventStore): Event[] {
    const seen: Event[] = [];
    store.onAppend((events) => seen.push(...events));
    return seen;
  }

  for (const positions of modes) {
    it(`[${positions}] two instances racing on one run with the same expectation: exactly one wins, the loser gets the actual sequence`, async () => {
      const { stores } = await instances(2, positions);
      const [a, b] = stores as [PostgresEventStore, PostgresEventStore];
      const runId = uniqueRunId("race");
      for (let round = 0; round < 25; round++) {
        const expected = new Map([[runId, BigInt(round)]]);
        const outcomes = await Promise.allSettled([
          a.append([stepStarted(runId, {}, { stepName: `a${round}` })], { expected }),
          b.append([stepStarted(runId, {}, { stepName: `b${round}` })], { expected }),
        ]);
        const won = outcomes.filter((o) => o.status === "fulfilled");
        const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === "rejected");
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(1);
        const error = lost[0]!.reason as ConcurrencyConflictError;
        expect(error).toBeInstanceOf(ConcurrencyConflictError);
        expect(error).toMatchObject({ runId, expected: BigInt(round), actual: BigInt(round + 1) });
      }
      const events = (await a.load(runId)).events;
      expect(events.map((e) => e.sequence)).toEqual(Array.from({ length: 25 }, (_, i) => BigInt(i + 1)));
    });

    it(`[${positions}] client-given sequences racing from two instances: one wins per sequence; server-assigned ones all succeed`, async () => {
      const { stores } = await instances(2, positions);
      const [a, b] = stores as [PostgresEventStore, PostgresEventStore];
      const runId = uniqueRunId("seq");
      const outcomes = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).append([stepStarted(runId, {}, { sequence: 1, stepName: `w${i}` })])),
      );
      expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
      for (const o of outcomes) {
        if (o.status === "rejected") expect(o.reason).toMatchObject({ runId, expected: 0n, actual: 1n });
      }
      // Sequences left to the store: all succeed, gapless, across instances.
      const results = await Promise.all(
        Array.from({ length: 16 }, (_, i) => (i % 2 ? a : b).append([stepStarted(runId), stepStarted(runId)])),
      );
      const assigned = results.flatMap((r) => r.events.map((e) => e.sequence)).sort((x, y) => (x < y ? -1 : 1));
      expect(assigned).toEqual(Array.from({ length: 32 }, (_, i) => BigInt(i + 2)));
    });

    it(`[${positions}] an append through one instance reaches the change feed of another, in order, once`, async () => {
      const { stores } = await instances(3, positions);
      const [a, b, c] = stores as [PostgresEventStore, PostgresEventStore, PostgresEventStore];
      const onB = record(b);
      const onC = record(c);
      const runId = uniqueRunId("cross");
      const first = await a.append([stepStarted(runId), stepStarted(runId)]);
      await vi.waitFor(() => expect(onB).toHaveLength(2), waitOptions);
      expect(onB.map((e) => e.position)).toEqual(first.events.map((e) => e.position));
      // Writers on every instance at once; every subscriber sees the one global log.
      const writers = stores.flatMap((store, s) =>
        Array.from({ length: 3 }, async (_, w) => {
          const run = uniqueRunId(`w${s}-${w}`);
          for (let i = 0; i < 10; i++) await store.append([stepStarted(run), stepStarted(run)]);
        }),
      );
      await Promise.all(writers);
      const log = await readWholeLog(a);
      expect(log).toHaveLength(2 + 3 * 3 * 10 * 2);
      await vi.waitFor(() => expect(onC.length).toBeGreaterThanOrEqual(log.length), waitOptions);
      await vi.waitFor(() => expect(onB.length).toBeGreaterThanOrEqual(log.length), waitOptions);
      expect(onB.map((e) => e.position)).toEqual(log.map((e) => e.position));
      expect(onC.map((e) => e.position)).toEqual(log.map((e) => e.position));
      expect(onC.map((e) => e.id)).toEqual(log.map((e) => e.id));
    });

    it(`[${positions}] a reader resuming readLog after its last position, during writes through two instances, skips nothing`, async () => {
      const { stores } = await instances(3, positions);
      const [a, b, reader] = stores as [PostgresEventStore, PostgresEventStore, PostgresEventStore];
      const sizes = Array.from({ length: 25 }, (_, i) => 1 + (i % 3));
      let writing = true;
      const writers = [a, b].flatMap((store, s) =>
        Array.from({ length: 4 }, async (_, w) => {
          const run = uniqueRunId(`p${s}-${w}`);
          for (const size of sizes) await store.append(Array.from({ length: size }, () => stepStarted(run)));
        }),
      );
      const done = Promise.all(writers).finally(() => {
        writing = false;
      });
      // Poll as a subscriber would: small pages, resuming after nextAfterPosition.
      const seen: bigint[] = [];
      let after = 0n;
      for (;;) {
        const finished = !writing;
        const page = await reader.readLog({ afterPosition: after, limit: 7 });
        seen.push(...page.events.map((e) => e.position));
        after = page.nextAfterPosition;
        if (finished && !page.hasMore) break;
      }
      await done;
      const all = (await readWholeLog(reader)).map((e) => e.position);
      expect(all).toHaveLength(8 * sizes.reduce((n, k) => n + k, 0));
      expect(seen).toEqual(all);
    });
  }

  it("[xid-gated] a lower position that commits late is not skipped by readLog or the change feed", async () => {
    const { schema, stores } = await instances(2, "xid-gated", { gateWaitMs: 150 });
    const [a, b] = stores as [PostgresEventStore, PostgresEventStore];
    const onB = record(b);
    const hot = uniqueRunId("hot");
    const cold = uniqueRunId("cold");
    await a.append([stepStarted(hot, {}, { stepName: "first" })]);
    await vi.waitFor(() => expect(onB).toHaveLength(1), waitOptions);

    // Hold the hot run's row lock: an append to it allocates its position, then waits.
    const holder = await db.connect();
    try {
      await holder.query("BEGIN");
      await holder.query(`SELECT 1 FROM ${schema}.runs WHERE run_id = $1 FOR UPDATE`, [hot]);
      const late = a.append([stepStarted(hot, {}, { stepName: "late" })]);
      await waitForLockWaiter(db);
      // Meanwhile another append takes the next position and commits.
      const early = await b.append([stepStarted(cold, {}, { stepName: "early" })]);
      const earlyPosition = early.events[0]!.position;
      expect(earlyPosition).toBe(3n); // position 2 belongs to the waiting append

      // Readers must not get past position 2 while it is in flight.
      const page = await a.readLog({ afterPosition: 1n });
      expect(page.events).toEqual([]);
      expect(page.headPosition).toBe(1n);
      expect(page.nextAfterPosition).toBe(1n);
      expect(await b.headPosition()).toBe(1n);
      await new Promise((r) => setTimeout(r, 100));
      expect(onB).toHaveLength(1);

      await holder.query("COMMIT");
      const lateResult: AppendResult = await late;
      expect(lateResult.events[0]!.position).toBe(2n);
    } finally {
      await holder.query("ROLLBACK").catch(() => undefined);
      holder.release();
    }
    await vi.waitFor(() => expect(onB).toHaveLength(3), waitOptions);
    expect(onB.map((e) => e.position)).toEqual([1n, 2n, 3n]);
    expect(onB.map((e) => e.stepName)).toEqual(["first", "late", "early"]);
    expect((await a.readLog()).events.map((e) => e.position)).toEqual([1n, 2n, 3n]);
  });

  it("[serialized] positions follow commit order: a writer waiting on a run lock takes the next position only when it commits", async () => {
    const { schema, stores } = await instances(2, "serialized");
    const [a, b] = stores as [PostgresEventStore, PostgresEventStore];
    const onB = record(b);
    const hot = uniqueRunId("hot");
    await a.append([stepStarted(hot, {}, { stepName: "first" })]);
    const holder = await db.connect();
    try {
      await holder.query("BEGIN");
      await holder.query(`SELECT 1 FROM ${schema}.runs WHERE run_id = $1 FOR UPDATE`, [hot]);
      const late = a.append([stepStarted(hot, {}, { stepName: "late" })]);
      await waitForLockWaiter(db);
      const early = await b.append([stepStarted(uniqueRunId("cold"), {}, { stepName: "early" })]);
      expect(early.events[0]!.position).toBe(2n);
      // Nothing is in flight below the head: readers see it at once.
      expect((await a.readLog({ afterPosition: 1n })).events.map((e) => e.stepName)).toEqual(["early"]);
      await holder.query("COMMIT");
      expect((await late).events[0]!.position).toBe(3n);
    } finally {
      await holder.query("ROLLBACK").catch(() => undefined);
      holder.release();
    }
    await vi.waitFor(() => expect(onB).toHaveLength(3), waitOptions);
    expect(onB.map((e) => e.stepName)).toEqual(["first", "early", "late"]);
  });
});

/** Waits until some backend of the store waits for a lock in the test database. */
async function waitForLockWaiter(db: TestDatabase): Promise<void> {
  await vi.waitFor(
    async () => {
      const { rows } = await db.query(
        `SELECT pid FROM pg_stat_activity
         WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%append_events(%'`,
      );
      expect(rows.length).toBeGreaterThan(0);
    },
    { timeout: 5_000, interval: 10 },
  );
}
