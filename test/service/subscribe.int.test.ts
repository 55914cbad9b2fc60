// Subscribe over real sockets (ARCHITECTURE §5): scopes, starts, filters,
// markers, exactly-once delivery across the catch-up/live seam under
// concurrent writers, release on cancel, the subscription limit.
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventType, type Event } from "../../gen/runlog/v1/event_pb.js";
import type { EventFilter as EventFilterMessage } from "../../gen/runlog/v1/event_store_pb.js";
import { LimitExceededSchema } from "../../gen/runlog/v1/errors_pb.js";
import type { RunningServer } from "../../src/server.js";
import type { EventFilter, EventStore } from "../../src/store/event-store.js";
import { createMemoryEventStore } from "../../src/store/memory/memory-event-store.js";
import { clientKind, clientKinds, type EventStoreClient } from "../support/clients.js";
import { customEvent, stepCompleted, stepStarted, uniqueRunId, workflowStarted } from "../support/events.js";
import { startTestServer } from "../support/server.js";
import { caughtUp, subscribe, type TestSubscriber } from "../support/subscriber.js";

const positions = (events: readonly Event[]) => events.map((e) => e.position);
const sequences = (events: readonly Event[]) => events.map((e) => e.sequence);

/** Everything the store holds after `after` matching `filter`, all runs or one run. */
async function storedLog(store: EventStore, scope: { runId?: string; after: bigint; filter?: EventFilter }): Promise<Event[]> {
  const out: Event[] = [];
  let after = scope.after;
  for (;;) {
    if (scope.runId !== undefined) {
      const page = await store.load(scope.runId, { afterSequence: after, ...(scope.filter && { filter: scope.filter }) });
      out.push(...page.events);
      if (!page.hasMore) return out;
      after = page.nextAfterSequence;
    } else {
      const page = await store.readLog({ afterPosition: after, ...(scope.filter && { filter: scope.filter }) });
      out.push(...page.events);
      if (!page.hasMore) return out;
      after = page.nextAfterPosition;
    }
  }
}

/** A store that counts its change-feed listeners. */
function countingStore(): EventStore & { readonly listeners: number } {
  const store = createMemoryEventStore();
  let listeners = 0;
  return {
    ...store,
    onAppend(listener: Parameters<EventStore["onAppend"]>[0]) {
      listeners++;
      const remove = store.onAppend(listener);
      let removed = false;
      return () => {
        if (!removed) listeners--;
        removed = true;
        remove();
      };
    },
    get listeners() {
      return listeners;
    },
  };
}

describe("markers, starts and scopes", () => {
  let server: RunningServer;
  let store: ReturnType<typeof countingStore>;
  let client: EventStoreClient;
  let close: () => void;
  beforeAll(async () => {
    store = countingStore();
    server = await startTestServer({}, { store, subscription: { checkpointIntervalMs: 50, batchEvents: 4 } });
    ({ client, close } = clientKind("grpc-js").create(server));
  });
  afterAll(async () => {
    close();
    await server.stop();
  });

  it("sends caught_up at once on an empty stream, for all runs and for one run", async () => {
    const all = subscribe(client, {});
    await all.until(caughtUp);
    expect(all.markers[0]).toEqual({ kind: "caughtUp", position: 0n, afterEvents: 0 });
    const one = subscribe(client, { runId: uniqueRunId() });
    await one.until(caughtUp);
    expect(one.markers[0]).toMatchObject({ kind: "caughtUp", position: 0n });
    await all.cancel();
    await one.cancel();
  });

  it("batches events, resumes after a position or sequence, and starts from now", async () => {
    const runId = uniqueRunId();
    await client.appendBatch({
      events: [workflowStarted(runId), ...Array.from({ length: 9 }, (_, i) => customEvent(runId, { name: `c${i}` }))],
    });
    const head = (await client.readLog({ limit: 1 })).headPosition;

    const fromStart = subscribe(client, { runId });
    await fromStart.until(caughtUp);
    expect(sequences(fromStart.events)).toEqual([1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n, 10n]);
    expect(fromStart.messages).toBe(3 + 1); // batches of 4: 4 + 4 + 2, then caught_up
    expect(fromStart.markers).toEqual([{ kind: "caughtUp", position: 10n, afterEvents: 10 }]);

    const resumed = subscribe(client, { runId, start: { case: "after", value: 7n } });
    await resumed.until(caughtUp);
    expect(sequences(resumed.events)).toEqual([8n, 9n, 10n]);

    const resumedAll = subscribe(client, { start: { case: "after", value: head - 2n } });
    await resumedAll.until(caughtUp);
    expect(positions(resumedAll.events)).toEqual([head - 1n, head]);

    const fromNow = subscribe(client, { runId, start: { case: "fromNow", value: {} } });
    await fromNow.until(caughtUp);
    expect(fromNow.events).toEqual([]);
    expect(fromNow.markers[0]).toMatchObject({ position: 10n });
    await client.append({ event: customEvent(runId, { name: "live" }) });
    for (const s of [fromStart, resumed, fromNow]) await s.until((r) => r.events.length > 0 && r.events.at(-1)!.sequence === 11n);
    expect(sequences(fromNow.events)).toEqual([11n]);
    await resumedAll.until((r) => r.events.length === 3);
    await Promise.all([fromStart, resumed, resumedAll, fromNow].map((s) => s.cancel()));
  });

  it("sends checkpoints while a filter skips events, so a resume does not rescan", async () => {
    const runId = uniqueRunId();
    await client.append({ event: workflowStarted(runId) });
    const filtered = subscribe(client, { filter: { types: [EventType.STEP_COMPLETED], runIdPrefix: runId } });
    await filtered.until(caughtUp);
    const caught = filtered.markers[0]!.position;
    // Only skipped events arrive: a checkpoint follows within the interval.
    await client.appendBatch({ events: Array.from({ length: 5 }, (_, i) => customEvent(runId, { name: `x${i}` })) });
    const head = (await client.readLog({ limit: 1 })).headPosition;
    await filtered.until((r) => r.markers.some((m) => m.kind === "checkpoint" && m.position === head));
    expect(filtered.events).toEqual([]);
    expect(head).toBeGreaterThan(caught);
    // A matching event is delivered as usual.
    await client.appendBatch({
      events: [stepStarted(runId, {}, { stepName: "s" }), stepCompleted(runId, {}, { stepName: "s" })],
    });
    await filtered.until((r) => r.events.length === 1);
    expect(filtered.events[0]!.type).toBe(EventType.STEP_COMPLETED);
    await filtered.cancel();
  });

  it("releases the change-feed listener when the client cancels", async () => {
    await expect.poll(() => store.listeners).toBe(0);
    const subscribers = [subscribe(client, {}), subscribe(client, { runId: "x" })];
    await Promise.all(subscribers.map((s) => s.until(caughtUp)));
    expect(store.listeners).toBe(2);
    await Promise.all(subscribers.map((s) => s.cancel()));
    await expect.poll(() => store.listeners).toBe(0);
  });
});

describe("the subscription limit", () => {
  it("RESOURCE_EXHAUSTED beyond max_subscriptions", async () => {
    const server = await startTestServer({ maxSubscriptions: 2 });
    const { client, close } = clientKind("connect-node gRPC → gRPC").create(server);
    try {
      const open = [subscribe(client, {}), subscribe(client, {})];
      await Promise.all(open.map((s) => s.until(caughtUp)));
      const third = subscribe(client, {});
      await expect(third.until(caughtUp)).rejects.toSatisfy(
        (e: unknown) =>
          e instanceof ConnectError &&
          e.code === Code.ResourceExhausted &&
          e.findDetails(LimitExceededSchema)[0]?.limit === "max_subscriptions",
      );
      await open[0]!.cancel();
      // A slot is free again once the first stream is gone.
      await expect
        .poll(async () => {
          const s = subscribe(client, {});
          try {
            await s.until(caughtUp, 2_000);
            return true;
          } catch {
            return false;
          } finally {
            await s.cancel();
          }
        })
        .toBe(true);
      await open[1]!.cancel();
    } finally {
      close();
      await server.stop();
    }
  });
});

describe.each([
  { liveBufferEvents: 500, label: "roomy live buffers" },
  { liveBufferEvents: 3, label: "3-event live buffers: falling behind all the time" },
])("20 writers on 50 runs, 10 subscribers, $label", ({ liveBufferEvents }) => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer({}, { subscription: { liveBufferEvents, pageEvents: 64, batchEvents: 16 } });
  });
  afterAll(async () => {
    await server.stop();
  });

  it("each subscriber receives exactly the store's filtered log, in order", async () => {
    const tag = uniqueRunId("mix");
    const runIds = Array.from({ length: 50 }, (_, i) => `${tag}-${String(i).padStart(2, "0")}`);
    const workflowOf = (i: number) => (i % 3 === 0 ? `${tag}-alpha` : `${tag}-beta`);
    const clients = clientKinds.map((kind) => kind.create(server));
    const clientAt = (i: number) => clients[i % clients.length]!.client;
    try {
      // Half the runs exist before anyone subscribes.
      for (let i = 0; i < 25; i++) {
        await clientAt(i).append({ event: workflowStarted(runIds[i]!, { workflowName: workflowOf(i) }) });
      }
      const base = (await clientAt(0).readLog({ limit: 1 })).headPosition;
      const inTag: EventFilterMessage["runIdPrefix"] = tag;

      type Spec = { name: string; runId?: string; filter?: EventFilter; start?: "now" | bigint; lateMs?: number };
      const specs: Spec[] = [
        { name: "all, from the beginning", filter: { runIdPrefix: inTag } },
        { name: "all, step.completed only", filter: { runIdPrefix: inTag, types: [EventType.STEP_COMPLETED] } },
        { name: "all, workflow alpha", filter: { workflowNames: [`${tag}-alpha`] } },
        { name: "all, runs 1x", filter: { runIdPrefix: `${tag}-1` } },
        { name: "all, from now (mid-way)", filter: { runIdPrefix: inTag }, start: "now", lateMs: 40 },
        { name: "all, resumed mid-way", filter: { runIdPrefix: inTag }, start: base + 10n, lateMs: 60 },
        { name: "run 7, everything", runId: runIds[7]! },
        { name: "run 3, resumed after 2, step names", runId: runIds[3]!, start: 2n, filter: { stepNames: ["w0-s0", "w4-s0", "w16-s1", "w9-s2"] } },
        { name: "all, beta + custom", filter: { workflowNames: [`${tag}-beta`], types: [EventType.CUSTOM] } },
        { name: "all, late start from the beginning", filter: { runIdPrefix: inTag }, lateMs: 80 },
      ];
      const toMessage = (f: EventFilter | undefined) =>
        f && {
          types: [...(f.types ?? [])],
          stepNames: [...(f.stepNames ?? [])],
          workflowNames: [...(f.workflowNames ?? [])],
          runIdPrefix: f.runIdPrefix ?? "",
        };
      const subscribers: { spec: Spec; sub: TestSubscriber }[] = [];
      const startSubscriber = (spec: Spec, i: number) => {
        const start =
          spec.start === "now"
            ? ({ case: "fromNow", value: {} } as const)
            : spec.start !== undefined
              ? ({ case: "after", value: spec.start } as const)
              : undefined;
        const sub = subscribe(clientAt(i + 1), {
          ...(spec.runId !== undefined && { runId: spec.runId }),
          ...(spec.filter && { filter: toMessage(spec.filter) }),
          ...(start && { start }),
        });
        subscribers.push({ spec, sub });
      };
      specs.forEach((spec, i) => {
        if (spec.lateMs === undefined) startSubscriber(spec, i);
        else setTimeout(() => startSubscriber(spec, i), spec.lateMs);
      });

      // 20 writers: each starts the other half's runs it owns, then appends steps and custom events to random runs.
      const writers = Array.from({ length: 20 }, async (_, w) => {
        const client = clientAt(w);
        for (let i = 25 + w; i < 50; i += 20) {
          await client.append({ event: workflowStarted(runIds[i]!, { workflowName: workflowOf(i) }) });
        }
        for (let k = 0; k < 12; k++) {
          const r = (w * 7 + k * 13) % 25; // runs that surely started
          const runId = runIds[r]!;
          const step = `w${w}-s${k % 3}`;
          if (k % 3 === 2) {
            await client.append({ event: customEvent(runId, { name: `w${w}-k${k}` }) });
          } else {
            await client.appendBatch({
              events: [stepStarted(runId, {}, { stepName: step }), stepCompleted(runId, {}, { stepName: step })],
            });
          }
          if (k % 4 === 0) await new Promise((r) => setTimeout(r, 5));
        }
      });
      await Promise.all(writers);
      await new Promise((r) => setTimeout(r, 100)); // late subscribers have started
      expect(subscribers).toHaveLength(10);

      for (const { spec, sub } of subscribers) {
        await sub.until(caughtUp);
        // From now: the first caught_up position is where it started.
        const after = spec.start === "now" ? sub.markers.find((m) => m.kind === "caughtUp")!.position : (spec.start ?? 0n);
        const expected = await storedLog(server.store, {
          ...(spec.runId !== undefined && { runId: spec.runId }),
          after,
          ...(spec.filter && { filter: spec.filter }),
        });
        await sub.until((r) => r.events.length >= expected.length, 20_000).catch(() => undefined);
        await new Promise((r) => setTimeout(r, 50)); // nothing more may arrive
        expect(sub.events.map((e) => e.id), spec.name).toEqual(expected.map((e) => e.id));
        expect(sub.events.length, spec.name).toBeGreaterThan(0);
        expect(sub.error, spec.name).toBeUndefined();
      }
      const fellBehind = subscribers.filter(({ sub }) => sub.markers.some((m) => m.kind === "fellBehind")).length;
      if (liveBufferEvents < 10) expect(fellBehind).toBeGreaterThan(0);
      await Promise.all(subscribers.map(({ sub }) => sub.cancel()));
    } finally {
      clients.forEach((c) => c.close());
    }
  });
});
