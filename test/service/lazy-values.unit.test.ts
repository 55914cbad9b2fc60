// The append path with the gRPC port's lazy JSON values (src/codec/lazy-value.ts):
// once AppendBatch returns, nothing the server keeps — the stored events, the
// reconstructor's cached state, the snapshots — may still read the request's
// bytes. The request is decoded as the gRPC port decodes it, then zeroed.
import { create, toBinary } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import type { Event } from "../../gen/runlog/v1/event_pb.js";
import { AppendBatchRequestSchema } from "../../gen/runlog/v1/event_store_pb.js";
import { requestDecoderFor } from "../../src/codec/codec.js";
import { defaultLimits } from "../../src/limits.js";
import { silentLogger } from "../../src/logger.js";
import { createReconstructor } from "../../src/reconstruct/create-reconstructor.js";
import { createEventStoreService } from "../../src/service/event-store-service.js";
import { rememberReceived } from "../../src/service/received-bytes.js";
import { createMemoryEventStore } from "../../src/store/memory/memory-event-store.js";
import { expectSameState, stateOf } from "../reconstruct/helpers.js";
import { contextUpdated, customEvent, stepCompleted, stepStarted, workflowCompleted, workflowStarted } from "../support/events.js";

const context = { signal: new AbortController().signal } as HandlerContext;

function history(runId: string): Event[] {
  const at = (n: number) => ({ sequence: n, timestamp: Date.UTC(2026, 0, 1, 0, 0, n) });
  const events = [workflowStarted(runId, { workflowName: "order", input: { order: "o-1", items: ["a", "b"] } }, at(1))];
  for (let i = 0; i < 5; i++) {
    const n = events.length;
    events.push(stepStarted(runId, {}, { ...at(n + 1), stepName: `step-${i}` }));
    events.push(stepCompleted(runId, {}, { ...at(n + 2), stepName: `step-${i}`, output: { step: i, ok: true, lines: [1, 2, i] } }));
    events.push(contextUpdated(runId, { key: `k${i}`, value: { reference: `INV-${i}`, nested: { deep: [i] } } }, at(n + 3)));
  }
  events.push(customEvent(runId, { name: "x.note", json: { text: "ünïcode ✓" } }, at(events.length + 1)));
  return events;
}

/** Three more events after history(): a step, then the workflow completes. */
function ending(runId: string): Event[] {
  const at = (n: number) => ({ sequence: n, timestamp: Date.UTC(2026, 0, 1, 0, 0, n) });
  return [
    stepStarted(runId, {}, { ...at(18), stepName: "last" }),
    stepCompleted(runId, {}, { ...at(19), stepName: "last", output: "done" }),
    workflowCompleted(runId, {}, { ...at(20), output: { total: 129.95 } }),
  ];
}

/** AppendBatch as the gRPC port calls it; returns the request's bytes. */
async function appendBatch(impl: ReturnType<typeof createEventStoreService>, events: Event[]): Promise<Buffer> {
  const bytes = Buffer.from(toBinary(AppendBatchRequestSchema, create(AppendBatchRequestSchema, { events })));
  const request = requestDecoderFor(AppendBatchRequestSchema)(bytes);
  rememberReceived(request, bytes);
  await impl.appendBatch(request, context);
  return bytes;
}

describe.each(["bytes", "objects"] as const)("AppendBatch with lazy values, memory store %s layout", (layout) => {
  it("keeps nothing that reads the request's bytes: stored events, cached state and snapshots survive the request being zeroed", async () => {
    const store = createMemoryEventStore({ layout });
    const reconstructor = createReconstructor({ store, snapshotEvery: 5, snapshotBytesPerEvent: 0 });
    const impl = createEventStoreService({ store, reconstructor, limits: defaultLimits, lifecycleValidation: true, logger: silentLogger });
    const runId = `lazy-${layout}`;
    const first = history(runId);
    (await appendBatch(impl, first)).fill(0);
    // The next snapshot (at 20) is encoded from the cached state folded from the first batch.
    const events = [...first, ...ending(runId)];
    (await appendBatch(impl, ending(runId))).fill(0);

    const expected = stateOf(runId, events);
    expectSameState((await reconstructor.getRunState(runId)).state, expected);
    const fresh = await createReconstructor({ store, snapshotEvery: 5 }).getRunState(runId);
    expect(fresh.snapshotSequence).toBe(20n);
    expectSameState(fresh.state, expected);
    expectSameState((await createReconstructor({ store }).getRunState(runId, 15n)).state, stateOf(runId, events.slice(0, 15)));
    // The stored events themselves.
    const loaded = await store.load(runId);
    expectSameState(stateOf(runId, loaded.events), expected);
    expect(loaded.events.map((e) => e.output?.kind.case)).toEqual(events.map((e) => e.output?.kind.case));
  });
});
