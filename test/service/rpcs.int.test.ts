// Every RPC of runlog.v1.EventStore over a real socket, through every client:
// connect-node's gRPC transport and a plain grpc-js client on the gRPC port;
// Connect binary (HTTP/1.1), Connect JSON (HTTP/2), gRPC-Web and gRPC on the HTTP port.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventType } from "../../gen/runlog/v1/event_pb.js";
import { RunStatus, StepStatus } from "../../gen/runlog/v1/run_state_pb.js";
import type { SubscribeResponse } from "../../gen/runlog/v1/event_store_pb.js";
import type { RunningServer } from "../../src/server.js";
import { clientKinds, type EventStoreClient } from "../support/clients.js";
import {
  customEvent,
  newId,
  stepCompleted,
  stepStarted,
  uniqueRunId,
  workflowCompleted,
  workflowStarted,
} from "../support/events.js";
import { startTestServer } from "../support/server.js";

let server: RunningServer;

beforeAll(async () => {
  server = await startTestServer({ limits: { maxPageEvents: 3 } });
});
afterAll(async () => {
  await server.stop();
});

/** Reads a subscription until caught_up; returns the events before it. */
async function readUntilCaughtUp(stream: AsyncIterable<SubscribeResponse>) {
  const events = [];
  for await (const response of stream) {
    if (response.message.case === "events") events.push(...response.message.value.events);
    if (response.message.case === "caughtUp") return { events, position: response.message.value.position };
  }
  throw new Error("stream ended before caught_up");
}

describe.each(clientKinds)("$name", (kind) => {
  let client: EventStoreClient;
  let close: () => void;
  beforeAll(() => {
    ({ client, close } = kind.create(server));
  });
  afterAll(() => close());

  it("appends, loads, reads the log, subscribes, reconstructs and lists", async () => {
    const runId = uniqueRunId(kind.port);
    const workflowName = `wf-${newId()}`;

    // Append: the server assigns id, sequence, position, timestamp.
    const first = await client.append({
      event: workflowStarted(runId, { workflowName, input: { order: 42 } }),
      expectedLastSequence: 0n,
    });
    expect(first.duplicate).toBe(false);
    expect(first.event).toMatchObject({ runId, sequence: 1n });
    expect(first.event!.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.event!.position).toBeGreaterThan(0n);

    // AppendBatch, with client IDs so that a retry is recognised.
    const batch = {
      events: [
        stepStarted(runId, {}, { stepName: "charge", id: newId() }),
        stepCompleted(runId, {}, { stepName: "charge", output: { paid: true }, id: newId() }),
        stepStarted(runId, {}, { stepName: "ship", id: newId() }),
        stepCompleted(runId, {}, { stepName: "ship", id: newId() }),
      ],
      expected: [{ runId, lastSequence: 1n }],
    };
    const appended = await client.appendBatch(batch);
    expect(appended.duplicate).toBe(false);
    expect(appended.events.map((e) => e.sequence)).toEqual([2n, 3n, 4n, 5n]);
    const positions = appended.events.map((e) => e.position);
    expect(positions).toEqual([...positions].sort((a, b) => (a < b ? -1 : 1)));

    await client.append({ event: workflowCompleted(runId, { output: { done: true } }) });

    // GetLastSequence, also for an unknown run.
    expect((await client.getLastSequence({ runId })).lastSequence).toBe(6n);
    expect((await client.getLastSequence({ runId: uniqueRunId("unknown") })).lastSequence).toBe(0n);

    // Load pages through the run (the server's page is 3 events).
    const page1 = await client.load({ runId });
    expect(page1.events.map((e) => e.sequence)).toEqual([1n, 2n, 3n]);
    expect(page1.hasMore).toBe(true);
    const page2 = await client.load({ runId, afterSequence: page1.nextAfterSequence, limit: 10 });
    expect(page2.events.map((e) => e.sequence)).toEqual([4n, 5n, 6n]);
    expect(page2.hasMore).toBe(false);
    expect(page1.events[0]!.payload).toMatchObject({ case: "workflowStarted", value: { workflowName } });
    expect(page1.events[0]!.type).toBe(EventType.WORKFLOW_STARTED);
    expect(page1.events[0]!.timestamp).toBeDefined();
    expect(page1.events[2]!.output?.kind).toMatchObject({ case: "structValue" });
    // Load with a filter.
    const completed = await client.load({ runId, filter: { types: [EventType.STEP_COMPLETED] } });
    expect(completed.events.map((e) => e.stepName)).toEqual(["charge", "ship"]);

    // ReadLog from this run's first position, filtered by workflow name.
    const log = await client.readLog({
      afterPosition: first.event!.position - 1n,
      limit: 2,
      filter: { workflowNames: [workflowName] },
    });
    expect(log.events.map((e) => e.sequence)).toEqual([1n, 2n]);
    expect(log.hasMore).toBe(true);
    expect(log.headPosition).toBeGreaterThanOrEqual(positions[3]!);

    // Idempotent retry: the same batch again stores nothing.
    const retry = await client.appendBatch(batch);
    expect(retry.duplicate).toBe(true);
    expect(retry.events.map((e) => e.sequence)).toEqual([2n, 3n, 4n, 5n]);

    // Subscribe to the run: everything, then caught_up at its last sequence.
    const controller = new AbortController();
    const sub = await readUntilCaughtUp(client.subscribe({ runId }, { signal: controller.signal }));
    controller.abort();
    expect(sub.events.map((e) => e.sequence)).toEqual([1n, 2n, 3n, 4n, 5n, 6n]);
    expect(sub.position).toBe(6n);

    // GetRunState now and as of a past sequence.
    const state = await client.getRunState({ runId });
    expect(state.state).toMatchObject({ runId, workflowName, status: RunStatus.COMPLETED });
    expect(state.state!.steps.map((s) => [s.name, s.status])).toEqual([
      ["charge", StepStatus.COMPLETED],
      ["ship", StepStatus.COMPLETED],
    ]);
    const past = await client.getRunState({ runId, asOfSequence: 2n });
    expect(past.state!.status).toBe(RunStatus.RUNNING);
    expect(past.replayedEvents).toBe(2n);

    // ListRuns by workflow name.
    const runs = await client.listRuns({ workflowNames: [workflowName] });
    expect(runs.runs).toHaveLength(1);
    expect(runs.runs[0]).toMatchObject({ runId, workflowName, status: RunStatus.COMPLETED, lastSequence: 6n });
    expect(runs.runs[0]!.firstEventAt).toBeDefined();
  });

  it("lists runs page by page, filtered by prefix and status", async () => {
    const prefix = uniqueRunId("list");
    for (const n of ["a", "b", "c"]) {
      await client.append({ event: workflowStarted(`${prefix}-${n}`, { workflowName: "lister" }) });
    }
    await client.append({ event: workflowCompleted(`${prefix}-b`) });
    const first = await client.listRuns({ runIdPrefix: prefix, pageSize: 2 });
    expect(first.runs.map((r) => r.runId)).toEqual([`${prefix}-a`, `${prefix}-b`]);
    expect(first.nextPageToken).not.toBe("");
    const second = await client.listRuns({ runIdPrefix: prefix, pageSize: 2, pageToken: first.nextPageToken });
    expect(second.runs.map((r) => r.runId)).toEqual([`${prefix}-c`]);
    expect(second.nextPageToken).toBe("");
    const completed = await client.listRuns({ runIdPrefix: prefix, statuses: [RunStatus.COMPLETED] });
    expect(completed.runs.map((r) => r.runId)).toEqual([`${prefix}-b`]);
  });

  it("subscribes to all runs with a filter, from now, and sees live events", async () => {
    const workflowName = `live-${newId()}`;
    const runId = uniqueRunId("live");
    const controller = new AbortController();
    const stream = client.subscribe(
      { start: { case: "fromNow", value: {} }, filter: { workflowNames: [workflowName] } },
      { signal: controller.signal },
    );
    const received: bigint[] = [];
    let caughtUp = false;
    const reading = (async () => {
      for await (const response of stream) {
        if (response.message.case === "caughtUp") caughtUp = true;
        if (response.message.case === "events") {
          received.push(...response.message.value.events.map((e) => e.sequence));
          if (received.length >= 3) return;
        }
      }
    })();
    await expect.poll(() => caughtUp).toBe(true);
    await client.append({ event: workflowStarted(uniqueRunId("other"), { workflowName: "other" }) });
    await client.append({ event: workflowStarted(runId, { workflowName }) });
    await client.appendBatch({
      events: [stepStarted(runId, {}, { stepName: "a" }), stepCompleted(runId, {}, { stepName: "a" })],
    });
    await reading;
    controller.abort();
    expect(received).toEqual([1n, 2n, 3n]);
  });
});

describe("pages cut by size", () => {
  // Binary pages are encoded whole and cut by their exact size, JSON pages by an estimate: every port and encoding.
  it.each(clientKinds.map((kind) => [kind.name, kind] as const))("%s: Load and ReadLog stop near 1 MiB of events, with has_more and the right cursor", async (_name, kind) => {
    const { client, close } = kind.create(server);
    try {
      const runId = uniqueRunId("big");
      const blob = "z".repeat(450_000); // three of them are over 1 MiB (this server's count limit is 3)
      const first = await client.append({ event: workflowStarted(runId, { input: { blob } }) });
      for (let i = 0; i < 2; i++) {
        await client.appendBatch({
          events: Array.from({ length: 4 }, (_, k) => customEvent(runId, { name: `c${i}${k}`, json: { blob } })),
        });
      }
      const loaded: bigint[] = [];
      let after = 0n;
      let pages = 0;
      for (;;) {
        const page = await client.load({ runId, afterSequence: after, limit: 100 });
        pages++;
        expect(page.events.length).toBeLessThanOrEqual(2);
        loaded.push(...page.events.map((e) => e.sequence));
        if (!page.hasMore) break;
        after = page.nextAfterSequence;
      }
      expect(loaded).toEqual([1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n]);
      expect(pages).toBe(5);
      const log = await client.readLog({ afterPosition: first.event!.position - 1n, limit: 100 });
      expect(log.hasMore).toBe(true);
      expect(log.events).toHaveLength(2);
      expect(log.nextAfterPosition).toBe(log.events.at(-1)!.position);
    } finally {
      close();
    }
  });
});
