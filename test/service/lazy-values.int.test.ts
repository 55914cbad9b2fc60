// JSON values appended over the gRPC port stay encoded on the server until read
// (src/codec/lazy-value.ts). Read back through every client and port — Load,
// GetRunState (from the cached state and from a snapshot), a catch-up Subscribe,
// Connect JSON included — they are the values that were sent.
import { equals } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventSchema, type Event } from "../../gen/runlog/v1/event_pb.js";
import { RunStateSchema } from "../../gen/runlog/v1/run_state_pb.js";
import type { RunningServer } from "../../src/server.js";
import { stateOf } from "../reconstruct/helpers.js";
import { clientKind, clientKinds } from "../support/clients.js";
import { contextUpdated, customEvent, stepCompleted, stepStarted, uniqueRunId, workflowStarted } from "../support/events.js";
import { startTestServer } from "../support/server.js";

let server: RunningServer;
beforeAll(async () => {
  server = await startTestServer({ snapshotEvery: 4 });
});
afterAll(async () => {
  await server.stop();
});

function history(runId: string): Event[] {
  const at = (n: number) => ({ sequence: n, timestamp: Date.UTC(2026, 0, 1, 0, 0, n) });
  return [
    workflowStarted(runId, { workflowName: "order", input: { order: "o-1", items: ["a", "b"], total: 12.5 } }, at(1)),
    stepStarted(runId, {}, { ...at(2), stepName: "pay" }),
    stepCompleted(runId, {}, { ...at(3), stepName: "pay", output: { ok: true, reference: "INV-1", nested: { lines: [1, 2] } } }),
    contextUpdated(runId, { key: "customer", value: { name: "Zoë ✓", tier: null } }, at(4)),
    customEvent(runId, { name: "x.note", json: ["free", 1, false] }, at(5)),
    stepStarted(runId, {}, { ...at(6), stepName: "ship" }),
  ];
}

/** The event as the client sent it, for comparison with what is read: the server's fields set from `read`. */
function asSent(sent: Event, read: Event): Event {
  return { ...sent, id: read.id, version: read.version, type: read.type, position: read.position };
}

describe("JSON values appended over the gRPC port, read back everywhere", () => {
  const runId = uniqueRunId("lazy-values");
  const events = history(runId);

  beforeAll(async () => {
    const writer = clientKind("grpc-js").create(server);
    try {
      await writer.client.appendBatch({ events });
    } finally {
      writer.close();
    }
  });

  it.each(clientKinds.map((kind) => [kind.name, kind] as const))("%s: Load, GetRunState and Subscribe return the values sent", async (_name, kind) => {
    const { client, close } = kind.create(server);
    try {
      const loaded = (await client.load({ runId })).events;
      expect(loaded).toHaveLength(events.length);
      loaded.forEach((event, i) => expect(equals(EventSchema, event, asSent(events[i]!, event)), `event ${i + 1}`).toBe(true));

      const expected = stateOf(runId, events);
      const latest = await client.getRunState({ runId });
      expect(equals(RunStateSchema, latest.state!, expected)).toBe(true);
      // As of 5: from the snapshot at 4 (written from the state the appended values were folded into), then one event.
      const past = await client.getRunState({ runId, asOfSequence: 5n });
      expect(past.snapshotSequence).toBe(4n);
      expect(equals(RunStateSchema, past.state!, stateOf(runId, events.slice(0, 5)))).toBe(true);

      const streamed: Event[] = [];
      for await (const response of client.subscribe({ runId, start: { case: "fromBeginning", value: {} } })) {
        if (response.message.case === "events") streamed.push(...response.message.value.events);
        if (response.message.case === "caughtUp") break;
      }
      expect(streamed.map((e) => e.sequence)).toEqual(events.map((e) => e.sequence));
      streamed.forEach((event, i) => expect(equals(EventSchema, event, asSent(events[i]!, event)), `streamed ${i + 1}`).toBe(true));
    } finally {
      close();
    }
  });
});
