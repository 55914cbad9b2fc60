// A subscriber that never reads while 200,000 events are appended (ARCHITECTURE
// §5): the server's memory stays bounded (its live buffer overflows and is
// dropped, and backpressure keeps the transport from queueing what the client
// does not read), the writers keep going, and once the subscriber reads it gets
// every event, in order, after a fell_behind.
//
// The store's change feed hands out copies of the events, as a database-backed
// store does (it decodes what it reads): then holding an event in a buffer costs
// its full size, not a reference to the store's own object, and an unbounded
// buffer anywhere on the way (live buffer, transport queue) shows in the heap.
import { runInNewContext } from "node:vm";
import { setFlagsFromString } from "node:v8";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clone } from "@bufbuild/protobuf";
import { EventSchema, type Event } from "../../gen/runlog/v1/event_pb.js";
import type { EventStore } from "../../src/store/event-store.js";
import type { SubscribeResponse } from "../../gen/runlog/v1/event_store_pb.js";
import type { RunningServer } from "../../src/server.js";
import { createMemoryEventStore } from "../../src/store/memory/memory-event-store.js";
import { clientKind } from "../support/clients.js";
import { customEvent, uniqueRunId } from "../support/events.js";
import { startTestServer } from "../support/server.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const total = 200_000;
const batchSize = 5_000;
const runs = 100;

function heapAfterGc(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

/** The i-th batch of the workload: custom events spread over `runs` runs. */
function batch(tag: string, index: number): Event[] {
  return Array.from({ length: batchSize }, (_, i) => {
    const n = index * batchSize + i;
    return customEvent(`${tag}-${n % runs}`, { name: `tick-${n}` });
  });
}

/** A memory store whose change feed delivers copies. */
function copyingStore(): EventStore {
  const store = createMemoryEventStore();
  return { ...store, onAppend: (listener) => store.onAppend((events) => listener(events.map((e) => clone(EventSchema, e)))) };
}

let baselineBytes: number;
beforeAll(async () => {
  // What storing the workload costs, measured in-process without a server.
  const tag = uniqueRunId("baseline");
  const before = heapAfterGc();
  const store = createMemoryEventStore();
  for (let b = 0; b < total / batchSize; b++) await store.append(batch(tag, b));
  baselineBytes = heapAfterGc() - before;
  await store.close();
}, 120_000);

describe.each(["grpc-js → gRPC port", "connect-node gRPC → HTTP port"])("%s", (kindName) => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await startTestServer({ subscriptionBufferEvents: 10_000 }, { store: copyingStore() });
  });
  afterAll(async () => {
    await server.stop();
  });

  it("keeps memory bounded, writers going, and delivers everything once read", async () => {
    const { client, close } = clientKind(kindName).create(server);
    try {
      const controller = new AbortController();
      const stream = client.subscribe({}, { signal: controller.signal })[Symbol.asyncIterator]();
      // Read only the first message (caught_up on the empty store), then nothing.
      const first = (await stream.next()).value as SubscribeResponse;
      expect(first.message.case).toBe("caughtUp");

      const tag = uniqueRunId("slow");
      const heapBefore = heapAfterGc();
      const started = Date.now();
      let slowest = 0;
      for (let b = 0; b < total / batchSize; b++) {
        const t = Date.now();
        const result = await client.appendBatch({ events: batch(tag, b) });
        expect(result.events).toHaveLength(batchSize);
        slowest = Math.max(slowest, Date.now() - t);
      }
      const appendMs = Date.now() - started;
      const growth = heapAfterGc() - heapBefore;
      console.info(
        `${kindName}: appended ${total} in ${appendMs} ms (slowest batch ${slowest} ms); ` +
          `heap growth ${(growth / 1e6).toFixed(1)} MB, storing alone ${(baselineBytes / 1e6).toFixed(1)} MB`,
      );
      // Writers were not held up by the subscriber.
      expect(slowest).toBeLessThan(5_000);
      // Beyond what the store itself holds, the stalled subscriber cost little.
      expect(growth - baselineBytes).toBeLessThan(Math.max(30e6, baselineBytes * 0.25));

      // Now read: every event, in order, after a fell_behind.
      let next = 1n;
      let fellBehind = 0;
      const readStarted = Date.now();
      while (next <= BigInt(total)) {
        const { value, done } = await stream.next();
        if (done) throw new Error("stream ended");
        const m = (value as SubscribeResponse).message;
        if (m.case === "fellBehind") fellBehind++;
        if (m.case === "events") {
          for (const event of m.value.events) {
            if (event.position !== next) throw new Error(`expected position ${next}, got ${event.position}`);
            next++;
          }
        }
      }
      console.info(`${kindName}: read ${total} events in ${Date.now() - readStarted} ms`);
      expect(fellBehind).toBeGreaterThan(0);
      controller.abort();
      await stream.return?.();
    } finally {
      close();
    }
  }, 120_000);
});
