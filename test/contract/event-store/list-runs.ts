// ListRuns: summaries sorted by run ID, filters, page tokens, status.
import { describe, expect, it } from "vitest";
import { RunStatus } from "../../../gen/runlog/v1/run_state_pb.js";
import { ConcurrencyConflictError, InvalidArgumentError } from "../../../src/errors.js";
import type { ListRunsOptions, RunSummary } from "../../../src/store/event-store.js";
import {
  compensationCompleted,
  compensationFailed,
  compensationStarted,
  signalReceived,
  signalTimeout,
  signalWaiting,
  stepStarted,
  uniqueRunId,
  workflowCancelled,
  workflowCompleted,
  workflowFailed,
  workflowStarted,
} from "../../support/events.js";
import type { Event } from "../../../gen/runlog/v1/event_pb.js";
import { rejection, sequenced, type ContractContext } from "./harness.js";

export function listRuns(ctx: ContractContext): void {
  describe("ListRuns", () => {
    /** All pages of a listing. */
    async function listAll(options: ListRunsOptions): Promise<RunSummary[][]> {
      const pages: RunSummary[][] = [];
      let pageToken = "";
      for (let i = 0; i < 1000; i++) {
        const page = await ctx.store().listRuns({ ...options, pageToken });
        pages.push([...page.runs]);
        if (page.nextPageToken === "") return pages;
        pageToken = page.nextPageToken;
      }
      return expect.fail("listRuns did not end");
    }

    it("summarizes each run: workflow name, status, last sequence, first and last event times", async () => {
      const store = ctx.store();
      const prefix = `${uniqueRunId("lr")}/`;
      const runId = `${prefix}order-1`;
      await store.append([
        workflowStarted(runId, { workflowName: "order" }, { timestamp: 1_700_000_000_000 }),
        stepStarted(runId, {}, { timestamp: 1_700_000_001_000 }),
      ]);
      // A second workflow.started (a lifecycle error the store itself does not judge) does not rename the run.
      await store.append([workflowStarted(runId, { workflowName: "renamed" }, { timestamp: 1_700_000_002_500 })]);
      const { runs, nextPageToken } = await store.listRuns({ runIdPrefix: prefix });
      expect(nextPageToken).toBe("");
      expect(runs).toHaveLength(1);
      const run = runs[0]!;
      expect(run.runId).toBe(runId);
      expect(run.workflowName).toBe("order");
      expect(run.status).toBe(RunStatus.RUNNING);
      expect(run.lastSequence).toBe(3n);
      expect(run.firstEventAt).toMatchObject({ seconds: 1_700_000_000n, nanos: 0 });
      expect(run.lastEventAt).toMatchObject({ seconds: 1_700_000_002n, nanos: 500_000_000 });
    });

    it("sorts by run ID", async () => {
      const store = ctx.store();
      const prefix = `${uniqueRunId("lr")}/`;
      for (const name of ["m", "b", "z", "a", "ba", "b-"]) await store.append([workflowStarted(`${prefix}${name}`)]);
      const { runs } = await store.listRuns({ runIdPrefix: prefix });
      expect(runs.map((r) => r.runId.slice(prefix.length))).toEqual(["a", "b", "b-", "ba", "m", "z"]);
    });

    it.each<{ label: string; events: (runId: string) => Event[]; status: RunStatus }>([
      { label: "no workflow.started yet", events: (r) => [stepStarted(r)], status: RunStatus.UNSPECIFIED },
      { label: "started", events: (r) => [workflowStarted(r)], status: RunStatus.RUNNING },
      { label: "waiting for a signal", events: (r) => [workflowStarted(r), signalWaiting(r)], status: RunStatus.WAITING },
      {
        label: "signal received",
        events: (r) => [workflowStarted(r), signalWaiting(r), signalReceived(r)],
        status: RunStatus.RUNNING,
      },
      {
        label: "one of two signals timed out",
        events: (r) => [workflowStarted(r), signalWaiting(r), signalWaiting(r, { signalName: "b" }), signalTimeout(r)],
        status: RunStatus.WAITING,
      },
      { label: "completed", events: (r) => [workflowStarted(r), workflowCompleted(r)], status: RunStatus.COMPLETED },
      { label: "failed", events: (r) => [workflowStarted(r), workflowFailed(r)], status: RunStatus.FAILED },
      { label: "cancelled", events: (r) => [workflowStarted(r), workflowCancelled(r)], status: RunStatus.CANCELLED },
      {
        label: "compensating",
        events: (r) => [workflowStarted(r), compensationStarted(r)],
        status: RunStatus.COMPENSATING,
      },
      {
        label: "compensated",
        events: (r) => [workflowStarted(r), compensationStarted(r), compensationCompleted(r)],
        status: RunStatus.COMPENSATED,
      },
      {
        label: "compensation failed",
        events: (r) => [workflowStarted(r), compensationStarted(r), compensationFailed(r)],
        status: RunStatus.COMPENSATION_FAILED,
      },
    ])("status follows the run's events: $label", async ({ events, status }) => {
      const store = ctx.store();
      const prefix = `${uniqueRunId("lr")}/`;
      const runId = `${prefix}run`;
      // One event per append, so that the status is tracked across appends.
      for (const event of events(runId)) await store.append([event]);
      const { runs } = await store.listRuns({ runIdPrefix: prefix });
      expect(runs.map((r) => r.status)).toEqual([status]);
    });

    it("filters by run-ID prefix, workflow names and statuses", async () => {
      const store = ctx.store();
      const prefix = `${uniqueRunId("lr")}/`;
      const r = (name: string) => `${prefix}${name}`;
      await store.append([workflowStarted(r("order-1"), { workflowName: "order" })]);
      await store.append([workflowStarted(r("order-2"), { workflowName: "order" }), workflowCompleted(r("order-2"))]);
      await store.append([workflowStarted(r("ship-1"), { workflowName: "ship" }), workflowFailed(r("ship-1"))]);
      await store.append([stepStarted(r("orphan"))]);
      await store.append([workflowStarted(`${uniqueRunId("elsewhere")}`, { workflowName: "order" })]);
      const names = async (options: ListRunsOptions) =>
        (await store.listRuns({ runIdPrefix: prefix, ...options })).runs.map((s) => s.runId.slice(prefix.length));
      expect(await names({})).toEqual(["order-1", "order-2", "orphan", "ship-1"]);
      expect(await names({ runIdPrefix: r("order") })).toEqual(["order-1", "order-2"]);
      expect(await names({ workflowNames: ["order"] })).toEqual(["order-1", "order-2"]);
      expect(await names({ workflowNames: ["ship", "nope"] })).toEqual(["ship-1"]);
      expect(await names({ statuses: [RunStatus.COMPLETED, RunStatus.FAILED] })).toEqual(["order-2", "ship-1"]);
      expect(await names({ statuses: [RunStatus.UNSPECIFIED] })).toEqual(["orphan"]);
      expect(await names({ workflowNames: ["order"], statuses: [RunStatus.RUNNING] })).toEqual(["order-1"]);
      expect(await names({ runIdPrefix: r("zzz") })).toEqual([]);
      expect(await names({ workflowNames: [], statuses: [] })).toHaveLength(4);
    });

    it("pages with page tokens: every run once, in order; the last page has no token", async () => {
      const store = ctx.store();
      const prefix = `${uniqueRunId("lr")}/`;
      const names = ["a", "b", "c", "d", "e"];
      for (const n of [...names].reverse()) await store.append([workflowStarted(`${prefix}${n}`)]);
      const pages = await listAll({ runIdPrefix: prefix, pageSize: 2 });
      expect(pages.map((p) => p.map((s) => s.runId.slice(prefix.length)))).toEqual([["a", "b"], ["c", "d"], ["e"]]);
      // Exactly full pages: no empty trailing page.
      const exact = await listAll({ runIdPrefix: prefix, pageSize: 5 });
      expect(exact).toHaveLength(1);
      expect(exact[0]).toHaveLength(5);
      // Filtered paging.
      await store.append([workflowCompleted(`${prefix}b`)]);
      await store.append([workflowCompleted(`${prefix}d`)]);
      await store.append([workflowCompleted(`${prefix}e`)]);
      const done = await listAll({ runIdPrefix: prefix, statuses: [RunStatus.COMPLETED], pageSize: 2 });
      expect(done.map((p) => p.map((s) => s.runId.slice(prefix.length)))).toEqual([["b", "d"], ["e"]]);
    });

    it("a page token stays valid while runs are added", async () => {
      const store = ctx.store();
      const prefix = `${uniqueRunId("lr")}/`;
      for (const n of ["b", "d", "f"]) await store.append([workflowStarted(`${prefix}${n}`)]);
      const first = await store.listRuns({ runIdPrefix: prefix, pageSize: 2 });
      expect(first.runs.map((s) => s.runId.slice(prefix.length))).toEqual(["b", "d"]);
      await store.append([workflowStarted(`${prefix}a`)]);
      await store.append([workflowStarted(`${prefix}e`)]);
      const second = await store.listRuns({ runIdPrefix: prefix, pageSize: 2, pageToken: first.nextPageToken });
      expect(second.runs.map((s) => s.runId.slice(prefix.length))).toEqual(["e", "f"]);
      expect(second.nextPageToken).toBe("");
    });

    it("a run whose first append failed does not exist", async () => {
      const store = ctx.store();
      const prefix = `${uniqueRunId("lr")}/`;
      await rejection(store.append(sequenced(`${prefix}ghost`, 1, 2)), ConcurrencyConflictError);
      expect((await store.listRuns({ runIdPrefix: prefix })).runs).toEqual([]);
    });

    it("rejects a malformed page token and a negative page size", async () => {
      const store = ctx.store();
      await store.append([workflowStarted(uniqueRunId())]);
      for (const pageToken of ["garbage", "%%%", "r1.", "0"]) {
        const error = await rejection(store.listRuns({ pageToken }), InvalidArgumentError);
        expect(error.field).toBe("page_token");
      }
      expect((await rejection(store.listRuns({ pageSize: -1 }), InvalidArgumentError)).field).toBe("page_size");
    });
  });
}
