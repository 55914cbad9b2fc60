// Load (paging, filters) and ReadLog (ranges, paging, filters, head position).
//
// Paging rules every store follows:
// - a page holds at most `limit` matching events (0 or absent: the store's maximum page);
// - hasMore: another matching event follows in the range;
// - hasMore true: next = the last returned event;
// - hasMore false: the whole range was examined, next = the range's last event (so a
//   filtered reader skips what did not match), or the requested start when the range is empty.
import { equals } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { EventSchema, EventType } from "../../../gen/runlog/v1/event_pb.js";
import { InvalidArgumentError } from "../../../src/errors.js";
import {
  customEvent,
  stepCompleted,
  stepFailed,
  stepStarted,
  uniqueRunId,
  workflowCompleted,
  workflowStarted,
} from "../../support/events.js";
import { positions, range, readAll, rejection, sequences, unsequenced, type ContractContext } from "./harness.js";

export function reads(ctx: ContractContext): void {
  describe("Load: paging and filters", () => {
    it("pages with limit: nextAfterSequence is the last sequence examined, hasMore until the end", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      await store.append(unsequenced(runId, 7));
      const p1 = await store.load(runId, { limit: 3 });
      expect(sequences(p1.events)).toEqual([1n, 2n, 3n]);
      expect(p1).toMatchObject({ nextAfterSequence: 3n, hasMore: true });
      const p2 = await store.load(runId, { afterSequence: 3n, limit: 3 });
      expect(sequences(p2.events)).toEqual([4n, 5n, 6n]);
      expect(p2).toMatchObject({ nextAfterSequence: 6n, hasMore: true });
      const p3 = await store.load(runId, { afterSequence: 6n, limit: 3 });
      expect(sequences(p3.events)).toEqual([7n]);
      expect(p3).toMatchObject({ nextAfterSequence: 7n, hasMore: false });
      // A page that ends exactly at the last event says there is no more.
      const exact = await store.load(runId, { afterSequence: 4n, limit: 3 });
      expect(sequences(exact.events)).toEqual([5n, 6n, 7n]);
      expect(exact).toMatchObject({ nextAfterSequence: 7n, hasMore: false });
      // Limit 0 or absent: everything (well under the store's maximum page).
      expect((await store.load(runId, { limit: 0 })).events).toHaveLength(7);
      expect((await store.load(runId)).events).toHaveLength(7);
    });

    it("foldOnly: the same events, their metadata and ids left out or kept, never changed", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      await store.append([
        workflowStarted(runId, {}, { metadata: { traceparent: "00-aa-01", tenant: "t-1" } }),
        stepStarted(runId, {}, { metadata: { traceparent: "00-aa-02" } }),
        stepCompleted(runId, {}, { output: { ok: true } }),
      ]);
      const full = (await store.load(runId)).events;
      const page = await store.load(runId, { foldOnly: true, limit: 2 });
      expect(page).toMatchObject({ nextAfterSequence: 2n, hasMore: true });
      const rest = await store.load(runId, { afterSequence: 2n, foldOnly: true });
      const hinted = [...page.events, ...rest.events];
      expect(hinted).toHaveLength(3);
      for (let i = 0; i < 3; i++) {
        // A hint: a store may drop the metadata and the id or keep them, and must not change anything else.
        expect([{}, full[i]!.metadata]).toContainEqual(hinted[i]!.metadata);
        expect(["", full[i]!.id]).toContain(hinted[i]!.id);
        // Compared as messages: a store may leave JSON values encoded until read (a LazyValue, adr/0007).
        const same = equals(EventSchema, { ...hinted[i]!, metadata: {}, id: "" }, { ...full[i]!, metadata: {}, id: "" });
        expect(same, `event ${i}`).toBe(true);
        expect(hinted[i]!.output?.kind).toEqual(full[i]!.output?.kind);
      }
      // The stored events keep their metadata and ids.
      const again = (await store.load(runId)).events;
      expect(again.map((e) => e.metadata)).toEqual(full.map((e) => e.metadata));
      expect(again.map((e) => e.id)).toEqual(full.map((e) => e.id));
      expect(full.every((e) => e.id !== "")).toBe(true);
    });

    it("after the last sequence: empty, nextAfterSequence stays where it was asked", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      await store.append(unsequenced(runId, 2));
      expect(await store.load(runId, { afterSequence: 2n })).toEqual({ events: [], nextAfterSequence: 2n, hasMore: false });
      expect(await store.load(runId, { afterSequence: 10n })).toEqual({ events: [], nextAfterSequence: 10n, hasMore: false });
      expect(await store.load(uniqueRunId("unknown"), { afterSequence: 4n })).toEqual({
        events: [],
        nextAfterSequence: 4n,
        hasMore: false,
      });
    });

    it("filters by types and step names (AND across fields, OR within one)", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      await store.append([
        workflowStarted(runId, { workflowName: "order" }),
        stepStarted(runId, {}, { stepName: "a" }),
        stepFailed(runId, {}, { stepName: "a" }),
        stepStarted(runId, {}, { stepName: "b" }),
        stepCompleted(runId, {}, { stepName: "b" }),
        stepStarted(runId, {}, { stepName: "c" }),
        workflowCompleted(runId),
      ]);
      const load = async (filter: Parameters<typeof store.load>[1]) => sequences((await store.load(runId, filter)).events);
      expect(await load({ filter: { types: [EventType.STEP_STARTED] } })).toEqual([2n, 4n, 6n]);
      expect(await load({ filter: { types: [EventType.WORKFLOW_STARTED, EventType.WORKFLOW_COMPLETED] } })).toEqual([1n, 7n]);
      expect(await load({ filter: { stepNames: ["a", "c"] } })).toEqual([2n, 3n, 6n]);
      expect(await load({ filter: { types: [EventType.STEP_STARTED], stepNames: ["b"] } })).toEqual([4n]);
      expect(await load({ filter: { types: [EventType.CUSTOM] } })).toEqual([]);
      expect(await load({ filter: { types: [], stepNames: [] } })).toEqual(range(1n, 7));
      // workflowNames and runIdPrefix do not apply to Load.
      expect(await load({ filter: { workflowNames: ["nope"], runIdPrefix: "nope" } })).toEqual(range(1n, 7));
      expect(await load({ afterSequence: 3n, filter: { types: [EventType.STEP_STARTED] } })).toEqual([4n, 6n]);
    });

    it("pages through a filter: full pages say whether a match follows; the last page skips the unmatched tail", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      // Matches (step "x") at sequences 2, 4, 5, 8; the run ends at 10.
      const steps = ["y", "x", "y", "x", "x", "y", "y", "x", "y", "y"];
      await store.append(steps.map((stepName) => stepStarted(runId, {}, { stepName })));
      const filter = { stepNames: ["x"] };
      const p1 = await store.load(runId, { filter, limit: 2 });
      expect(sequences(p1.events)).toEqual([2n, 4n]);
      expect(p1).toMatchObject({ nextAfterSequence: 4n, hasMore: true });
      const p2 = await store.load(runId, { filter, limit: 2, afterSequence: 4n });
      expect(sequences(p2.events)).toEqual([5n, 8n]);
      // Full, but no match follows.
      expect(p2).toMatchObject({ nextAfterSequence: 10n, hasMore: false });
      const p3 = await store.load(runId, { filter, limit: 3, afterSequence: 4n });
      expect(sequences(p3.events)).toEqual([5n, 8n]);
      expect(p3).toMatchObject({ nextAfterSequence: 10n, hasMore: false });
    });

    it("rejects a bad run ID, a negative afterSequence or limit", async () => {
      const store = ctx.store();
      expect((await rejection(store.load(""), InvalidArgumentError)).field).toBe("run_id");
      expect((await rejection(store.load("a\u0000b"), InvalidArgumentError)).field).toBe("run_id");
      expect((await rejection(store.getLastSequence(""), InvalidArgumentError)).field).toBe("run_id");
      const runId = uniqueRunId();
      expect((await rejection(store.load(runId, { afterSequence: -1n }), InvalidArgumentError)).field).toBe("after_sequence");
      expect((await rejection(store.load(runId, { limit: -1 }), InvalidArgumentError)).field).toBe("limit");
    });

    it("returned events carry their positions", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      const result = await store.append(unsequenced(runId, 3));
      const { events } = await store.load(runId);
      expect(positions(events)).toEqual(result.events.map((e) => e.position));
      expect(events.every((e) => e.position > 0n)).toBe(true);
    });
  });

  describe("ReadLog: ranges, paging, filters, head position", () => {
    it("an empty store: no events, head 0", async () => {
      const store = ctx.store();
      expect(await store.readLog()).toEqual({ events: [], nextAfterPosition: 0n, hasMore: false, headPosition: 0n });
      expect(await store.headPosition()).toBe(0n);
    });

    it("returns every event in position order, with the head position", async () => {
      const store = ctx.store();
      const a = uniqueRunId("a");
      const b = uniqueRunId("b");
      await store.append(unsequenced(a, 2));
      await store.append([...unsequenced(b, 2), ...unsequenced(a, 1)]);
      const log = await store.readLog();
      expect(positions(log.events)).toEqual(range(1n, 5));
      expect(log.events.map((e) => [e.runId, e.sequence])).toEqual([
        [a, 1n],
        [a, 2n],
        [b, 1n],
        [b, 2n],
        [a, 3n],
      ]);
      expect(log).toMatchObject({ nextAfterPosition: 5n, hasMore: false, headPosition: 5n });
      expect(await store.headPosition()).toBe(5n);
    });

    it("afterPosition and toPosition bound the range", async () => {
      const store = ctx.store();
      await store.append(unsequenced(uniqueRunId(), 10));
      const read = (afterPosition: bigint, toPosition: bigint) => store.readLog({ afterPosition, toPosition });
      const mid = await read(3n, 6n);
      expect(positions(mid.events)).toEqual([4n, 5n, 6n]);
      expect(mid).toMatchObject({ nextAfterPosition: 6n, hasMore: false, headPosition: 10n });
      expect(positions((await read(0n, 1n)).events)).toEqual([1n]);
      // toPosition 0 (and absent): up to the head; beyond the head: up to the head.
      expect(positions((await read(8n, 0n)).events)).toEqual([9n, 10n]);
      expect(positions((await store.readLog({ afterPosition: 8n })).events)).toEqual([9n, 10n]);
      const beyond = await read(8n, 100n);
      expect(positions(beyond.events)).toEqual([9n, 10n]);
      expect(beyond).toMatchObject({ nextAfterPosition: 10n, hasMore: false });
      // Empty ranges keep the asked-for start.
      expect(await read(6n, 6n)).toEqual({ events: [], nextAfterPosition: 6n, hasMore: false, headPosition: 10n });
      expect(await read(7n, 3n)).toEqual({ events: [], nextAfterPosition: 7n, hasMore: false, headPosition: 10n });
      expect(await read(10n, 0n)).toEqual({ events: [], nextAfterPosition: 10n, hasMore: false, headPosition: 10n });
      expect(await read(50n, 0n)).toEqual({ events: [], nextAfterPosition: 50n, hasMore: false, headPosition: 10n });
    });

    it("pages with limit: follow nextAfterPosition while hasMore, no gap, no repeat", async () => {
      const store = ctx.store();
      const runs = [uniqueRunId("a"), uniqueRunId("b"), uniqueRunId("c")];
      for (let i = 0; i < 10; i++) await store.append(unsequenced(runs[i % 3]!, 1));
      const p1 = await store.readLog({ limit: 4 });
      expect(positions(p1.events)).toEqual(range(1n, 4));
      expect(p1).toMatchObject({ nextAfterPosition: 4n, hasMore: true, headPosition: 10n });
      const p2 = await store.readLog({ afterPosition: 4n, limit: 4 });
      expect(positions(p2.events)).toEqual(range(5n, 4));
      expect(p2).toMatchObject({ nextAfterPosition: 8n, hasMore: true });
      const p3 = await store.readLog({ afterPosition: 8n, limit: 4 });
      expect(positions(p3.events)).toEqual([9n, 10n]);
      expect(p3).toMatchObject({ nextAfterPosition: 10n, hasMore: false });
      // Up to a position, in pages.
      const bounded = await store.readLog({ afterPosition: 2n, toPosition: 6n, limit: 4 });
      expect(positions(bounded.events)).toEqual([3n, 4n, 5n, 6n]);
      expect(bounded).toMatchObject({ nextAfterPosition: 6n, hasMore: false });
      const bounded2 = await store.readLog({ afterPosition: 2n, toPosition: 7n, limit: 4 });
      expect(bounded2).toMatchObject({ nextAfterPosition: 6n, hasMore: true });
      expect(positions(await readAll(store))).toEqual(range(1n, 10));
    });

    it("filters by types, step names, workflow names and run-ID prefix", async () => {
      const store = ctx.store();
      const prefix = uniqueRunId("rl");
      const order1 = `${prefix}/order-1`;
      const order2 = `${prefix}/order-2`;
      const ship = `${prefix}/ship-1`;
      const orphan = `${prefix}/orphan`; // no workflow.started
      await store.append([workflowStarted(order1, { workflowName: "order" }), workflowStarted(ship, { workflowName: "ship" })]);
      await store.append([stepStarted(order1, {}, { stepName: "charge" }), stepStarted(ship, {}, { stepName: "pack" })]);
      await store.append([workflowStarted(order2, { workflowName: "order" }), stepStarted(orphan, {}, { stepName: "charge" })]);
      await store.append([stepCompleted(order2, {}, { stepName: "charge" }), customEvent(ship, { name: "x", json: 1 })]);
      const at = async (filter: Parameters<typeof store.readLog>[0]) =>
        (await store.readLog(filter)).events.map((e) => `${e.runId.slice(prefix.length + 1)}#${e.sequence}`);
      expect(await at({ filter: { workflowNames: ["order"] } })).toEqual(["order-1#1", "order-1#2", "order-2#1", "order-2#2"]);
      expect(await at({ filter: { workflowNames: ["ship", "nope"] } })).toEqual(["ship-1#1", "ship-1#2", "ship-1#3"]);
      expect(await at({ filter: { runIdPrefix: `${prefix}/order` } })).toEqual(["order-1#1", "order-1#2", "order-2#1", "order-2#2"]);
      expect(await at({ filter: { stepNames: ["charge"] } })).toEqual(["order-1#2", "orphan#1", "order-2#2"]);
      expect(await at({ filter: { types: [EventType.CUSTOM, EventType.STEP_COMPLETED] } })).toEqual(["order-2#2", "ship-1#3"]);
      expect(await at({ filter: { workflowNames: ["order"], stepNames: ["charge"] } })).toEqual(["order-1#2", "order-2#2"]);
      expect(
        await at({ filter: { runIdPrefix: `${prefix}/order-2`, types: [EventType.WORKFLOW_STARTED] } }),
      ).toEqual(["order-2#1"]);
      expect(await at({ filter: { runIdPrefix: `${prefix}/none` } })).toEqual([]);
      expect(await at({ filter: {} })).toHaveLength(8);
    });

    it("pages through a filter: a full page says whether a match follows; the last page skips to the end", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      const other = uniqueRunId("other");
      // Matches (run `runId`) at positions 1, 3, 4, 7; the log ends at 9.
      const order = [runId, other, runId, runId, other, other, runId, other, other];
      for (const r of order) await store.append(unsequenced(r, 1));
      const filter = { runIdPrefix: runId };
      const p1 = await store.readLog({ filter, limit: 2 });
      expect(positions(p1.events)).toEqual([1n, 3n]);
      expect(p1).toMatchObject({ nextAfterPosition: 3n, hasMore: true, headPosition: 9n });
      const p2 = await store.readLog({ filter, limit: 2, afterPosition: 3n });
      expect(positions(p2.events)).toEqual([4n, 7n]);
      expect(p2).toMatchObject({ nextAfterPosition: 9n, hasMore: false });
      const bounded = await store.readLog({ filter, afterPosition: 3n, toPosition: 6n });
      expect(positions(bounded.events)).toEqual([4n]);
      expect(bounded).toMatchObject({ nextAfterPosition: 6n, hasMore: false });
      const none = await store.readLog({ filter: { types: [EventType.CUSTOM] }, afterPosition: 2n });
      expect(none).toEqual({ events: [], nextAfterPosition: 9n, hasMore: false, headPosition: 9n });
    });

    it("the head position follows appends; failed appends do not move it", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      await store.append(unsequenced(runId, 3));
      expect((await store.readLog({ limit: 1 })).headPosition).toBe(3n);
      await rejection(store.append(unsequenced(runId, 1), { expected: new Map([[runId, 0n]]) }), Error);
      expect(await store.headPosition()).toBe(3n);
      await store.append(unsequenced(runId, 2));
      expect((await store.readLog({ afterPosition: 100n })).headPosition).toBe(5n);
    });

    it("rejects a negative afterPosition, toPosition or limit", async () => {
      const store = ctx.store();
      expect((await rejection(store.readLog({ afterPosition: -1n }), InvalidArgumentError)).field).toBe("after_position");
      expect((await rejection(store.readLog({ toPosition: -1n }), InvalidArgumentError)).field).toBe("to_position");
      expect((await rejection(store.readLog({ limit: -5 }), InvalidArgumentError)).field).toBe("limit");
    });
  });
}
