// Load returns a page as chunks of about 1 MiB of payload (queries.ts, loadChunk() in
// postgres-event-store.ts): a page that spans several chunks must come back whole, in
// sequence order, with each event's own position, with and without filters and paging.
import { afterEach, expect, it } from "vitest";
import { EventType } from "../../gen/runlog/v1/event_pb.js";
import { createPostgresEventStore, type PostgresEventStore } from "../../src/store/postgres/postgres-event-store.js";
import { stepCompleted, stepStarted, uniqueRunId, workflowStarted } from "../support/events.js";
import { describePostgres, useTestDatabase } from "../support/postgres.js";

describePostgres("PostgreSQL store: load in chunks", () => {
  const db = useTestDatabase("loadchunks");
  const opened: PostgresEventStore[] = [];

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });

  it("a page of several MiB: every event once, in order, with its position; filters and paging too", async () => {
    const store = await createPostgresEventStore({ connectionString: db.url, schema: db.newSchema("chunks"), positions: "serialized" });
    opened.push(store);
    const runId = uniqueRunId("big");
    const other = uniqueRunId("other");
    const events = [workflowStarted(runId)];
    for (let i = 0; i < 30; i++) {
      events.push(stepStarted(runId, {}, { stepName: `s${i}` }));
      // ~150 KB each: 30 of them span several 1 MiB chunks.
      events.push(stepCompleted(runId, {}, { stepName: `s${i}`, output: { blob: `${i}:`.padEnd(150_000, "x") } }));
    }
    const appended = await store.append(events);
    await store.append([workflowStarted(other)]);

    const page = await store.load(runId);
    expect(page.hasMore).toBe(false);
    expect(page.events.map((e) => e.sequence)).toEqual(events.map((_, i) => BigInt(i + 1)));
    expect(page.events.map((e) => e.position)).toEqual(appended.events.map((e) => e.position));
    expect(page.events.map((e) => e.id)).toEqual(appended.events.map((e) => e.id));
    const completed = page.events.filter((e) => e.type === EventType.STEP_COMPLETED);
    expect(completed).toHaveLength(30);
    completed.forEach((e, i) => expect(e.output?.kind.case === "structValue" && e.output.kind.value.fields.blob?.kind.value).toBe(`${i}:`.padEnd(150_000, "x")));

    const filtered = await store.load(runId, { filter: { types: [EventType.STEP_COMPLETED] }, afterSequence: 10n, limit: 12 });
    expect(filtered.events.map((e) => e.sequence)).toEqual(Array.from({ length: 12 }, (_, k) => BigInt(11 + 2 * k)));
    expect(filtered.hasMore).toBe(true);
    expect(filtered.nextAfterSequence).toBe(33n);

    const empty = await store.load(runId, { afterSequence: 61n });
    expect(empty).toEqual({ events: [], nextAfterSequence: 61n, hasMore: false });
    expect((await store.load(uniqueRunId("none"))).events).toEqual([]);
  });
});
