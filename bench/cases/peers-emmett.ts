// Peer: @event-driven-io/emmett. Its in-memory event store in-process against
// runlog's memory store in-process (interleaved with the in-process group's
// cases of the same workload), and emmett-postgresql against runlog's
// PostgreSQL store on the same database (see postgres.ts for runlog's side).
import { getInMemoryEventStore, type Event as EmmettEvent } from "@event-driven-io/emmett";
import { defineCase, type CorpusGroup } from "../lib/bench-case.js";
import { toEmmettEvent, type EmmettWorkflowEvent } from "../lib/emmett-events.js";
import { workflowHistory } from "../lib/history.js";
import { pick } from "../lib/sizes.js";
import { roundRobinEvents } from "./in-process.js";

type Stored = EmmettWorkflowEvent & EmmettEvent;

const appendSingle = defineCase<{ events: { stream: string; event: Stored }[] }>({
  name: "peer.emmett.memory.append.single-expected",
  method:
    "getInMemoryEventStore().appendToStream(stream, [event], {expectedStreamVersion}) awaited one at a time; the same 20,000 events (2,000 quick) round robin over 100 streams as inproc.memory.append.single-expected, as emmett events ({type, data} = the payload's proto JSON); fresh store per repetition",
  metric: "events/s",
  better: "higher",
  interleave: "inproc.append.single",
  async setup(ctx) {
    const events = roundRobinEvents(100, pick(ctx, 200, 20), "run").map((e) => ({ stream: e.runId, event: toEmmettEvent(e) as Stored }));
    return { events };
  },
  async run({ events }) {
    const store = getInMemoryEventStore();
    const version = new Map<string, bigint>();
    const t0 = performance.now();
    for (const { stream, event } of events) {
      const r = await store.appendToStream(stream, [event], { expectedStreamVersion: version.get(stream) ?? 0n });
      version.set(stream, r.nextExpectedStreamVersion);
    }
    const ms = performance.now() - t0;
    return { "events/s": (events.length * 1000) / ms, "µs/append": (ms * 1000) / events.length };
  },
});

function appendBatch(size: number) {
  return defineCase<{ batches: { stream: string; events: Stored[] }[] }>({
    name: `peer.emmett.memory.append.batch.b${size}`,
    method: `appendToStream(stream, batch) with batches of ${size} events of one stream, the same workload as inproc.memory.append.batch.b${size}; fresh store per repetition`,
    metric: "events/s",
    better: "higher",
    interleave: `inproc.append.b${size}`,
    async setup(ctx) {
      const total = pick(ctx, 20_000, 2_000);
      const perRun = Math.max(size, Math.ceil(total / 100));
      const batches: { stream: string; events: Stored[] }[] = [];
      for (let r = 0; r * perRun < Math.max(total, size); r++) {
        const history = workflowHistory(`batch-${r}`, perRun, { serverSequences: true }).map((e) => toEmmettEvent(e) as Stored);
        for (let i = 0; i < history.length; i += size) batches.push({ stream: `batch-${r}`, events: history.slice(i, i + size) });
      }
      return { batches };
    },
    async run({ batches }) {
      const store = getInMemoryEventStore();
      let n = 0;
      const t0 = performance.now();
      for (const b of batches) {
        await store.appendToStream(b.stream, b.events);
        n += b.events.length;
      }
      const ms = performance.now() - t0;
      return { "events/s": (n * 1000) / ms, "µs/batch": (ms * 1000) / batches.length };
    },
  });
}

function readStream(perRun: number) {
  const label = perRun >= 1000 ? `${perRun / 1000}k` : String(perRun);
  return defineCase<{ store: ReturnType<typeof getInMemoryEventStore>; streams: string[] }>({
    name: `peer.emmett.memory.read-${label}`,
    method: `readStream(stream) of a ${perRun.toLocaleString("en-US")}-event stream, 10 such streams, repeated for ≥ 300 ms (same workload as inproc.memory.load-${label})`,
    metric: "events/s",
    better: "higher",
    interleave: `inproc.read-${label}`,
    async setup() {
      const store = getInMemoryEventStore();
      const streams: string[] = [];
      for (let r = 0; r < 10; r++) {
        const stream = `load-${r}`;
        streams.push(stream);
        const events = workflowHistory(stream, perRun).map((e) => toEmmettEvent(e) as Stored);
        for (let i = 0; i < events.length; i += 1000) await store.appendToStream(stream, events.slice(i, i + 1000));
      }
      return { store, streams };
    },
    async run({ store, streams }) {
      let reads = 0;
      let events = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < 300) {
        const r = await store.readStream(streams[reads % streams.length]!);
        events += r.events.length;
        reads++;
      }
      const ms = performance.now() - t0;
      return { "events/s": (events * 1000) / ms, "µs/read": (ms * 1000) / reads };
    },
  });
}

export const peersEmmettMemory: CorpusGroup = {
  group: "peers: emmett in-memory (in-process)",
  cases: [appendSingle, appendBatch(100), appendBatch(1000), readStream(1000), readStream(10_000)],
  ratios: [
    { name: "append single (expected version): runlog memory / emmett memory", numerator: "inproc.memory.append.single-expected", denominator: "peer.emmett.memory.append.single-expected", target: { op: ">=", value: 1, source: "ARCHITECTURE §10 (runlog ahead of peers)" } },
    { name: "append batch 100: runlog / emmett", numerator: "inproc.memory.append.batch.b100", denominator: "peer.emmett.memory.append.batch.b100", target: { op: ">=", value: 1, source: "ARCHITECTURE §10" } },
    { name: "append batch 1000: runlog / emmett", numerator: "inproc.memory.append.batch.b1000", denominator: "peer.emmett.memory.append.batch.b1000", target: { op: ">=", value: 1, source: "ARCHITECTURE §10" } },
    { name: "read 1k-event run: runlog load / emmett readStream", numerator: "inproc.memory.load-1k", denominator: "peer.emmett.memory.read-1k", target: { op: ">=", value: 1, source: "ARCHITECTURE §10" } },
    { name: "read 10k-event run: runlog load / emmett readStream", numerator: "inproc.memory.load-10k", denominator: "peer.emmett.memory.read-10k", target: { op: ">=", value: 1, source: "ARCHITECTURE §10" } },
  ],
};
