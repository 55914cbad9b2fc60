// In-process: runlog's in-memory store called directly (no transport), the
// embedded-use figures of issue 2 and the baseline for every over-the-wire figure.
// The inproc.memory.* cases use the store's "objects" layout, like for like with
// emmett's in-memory store (both hold and hand out the appended objects); the
// inproc.memory-bytes.* ones the default "bytes" layout, which the server runs.
import type { Event } from "../../gen/runlog/v1/event_pb.js";
import type { EventStore } from "../../src/store/event-store.js";
import { defineCase, type CorpusGroup, type RunContext } from "../lib/bench-case.js";
import { workflowHistory } from "../lib/history.js";
import { loadMemoryStore, memoryStoreFile, missing } from "../lib/runlog-inproc.js";
import { pick } from "../lib/sizes.js";

const available = async () => missing(memoryStoreFile);

/** `runs` runs of `perRun` events each, interleaved round robin (run 0 event 1, run 1 event 1, …). */
export function roundRobinEvents(runs: number, perRun: number, prefix: string): Event[] {
  const histories = Array.from({ length: runs }, (_, r) => workflowHistory(`${prefix}-${r}`, perRun, { serverSequences: true }));
  const out: Event[] = [];
  for (let i = 0; i < perRun; i++) for (let r = 0; r < runs; r++) out.push(histories[r]![i]!);
  return out;
}

interface AppendState {
  readonly create: () => EventStore;
  readonly events: Event[];
}

const appendSizes = (ctx: RunContext) => ({ runs: 100, perRun: pick(ctx, 200, 20) });

type Layout = "objects" | "bytes";
const prefix = (layout: Layout) => (layout === "objects" ? "inproc.memory" : "inproc.memory-bytes");
const layoutNote = (layout: Layout) =>
  layout === "objects" ? `; the store's "objects" layout (like emmett's)` : `; the store's default "bytes" layout (the server's: events kept encoded, reads decode)`;

async function appendSetup(ctx: RunContext, layout: Layout = "objects"): Promise<AppendState> {
  const createMemoryEventStore = await loadMemoryStore();
  const { runs, perRun } = appendSizes(ctx);
  return { create: () => createMemoryEventStore({ layout }), events: roundRobinEvents(runs, perRun, "run") };
}

async function appendSingles(state: AppendState, withExpected: boolean): Promise<number> {
  const store = state.create();
  const last = new Map<string, bigint>();
  const t0 = performance.now();
  for (const event of state.events) {
    if (withExpected) {
      const expected = last.get(event.runId) ?? 0n;
      const r = await store.append([event], { expected: new Map([[event.runId, expected]]) });
      last.set(event.runId, r.events[0]!.sequence);
    } else {
      await store.append([event]);
    }
  }
  const ms = performance.now() - t0;
  await store.close();
  return ms;
}

function appendSingle(withExpected: boolean) {
  return defineCase<AppendState>({
    name: withExpected ? "inproc.memory.append.single-expected" : "inproc.memory.append.single",
    method:
      "store.append([event]) awaited one at a time, 20,000 realistic workflow events (2,000 quick) round robin over 100 runs, server-assigned sequences" +
      (withExpected ? ", each with expected last sequence (Map) — like for like with emmett's expectedStreamVersion" : "") +
      "; a fresh store per repetition",
    metric: "events/s",
    better: "higher",
    interleave: withExpected ? "inproc.append.single" : undefined,
    available,
    async setup(ctx) {
      const s = await appendSetup(ctx);
      await appendSingles(s, withExpected); // warm-up
      return s;
    },
    async run(s) {
      const ms = await appendSingles(s, withExpected);
      return { "events/s": (s.events.length * 1000) / ms, "µs/append": (ms * 1000) / s.events.length };
    },
  });
}

function appendBatch(size: number, layout: Layout = "objects") {
  return defineCase<AppendState & { batches: Event[][] }>({
    name: `${prefix(layout)}.append.batch.b${size}`,
    method: `store.append(batch) with batches of ${size} events of one run (100 runs; server-assigned sequences), 20,000 events (2,000 quick) per repetition, fresh store${layoutNote(layout)}`,
    metric: "events/s",
    better: "higher",
    interleave: `inproc.append.b${size}`,
    available,
    async setup(ctx) {
      const s = await appendSetup(ctx, layout);
      const { runs } = appendSizes(ctx);
      const total = s.events.length;
      const perRun = Math.max(size, Math.ceil(total / runs));
      const batches: Event[][] = [];
      for (let r = 0; r * perRun < Math.max(total, size); r++) {
        const history = workflowHistory(`batch-${r}`, perRun, { serverSequences: true });
        for (let i = 0; i < history.length; i += size) batches.push(history.slice(i, i + size));
      }
      return { ...s, batches };
    },
    async run(s) {
      const store = s.create();
      let n = 0;
      const t0 = performance.now();
      for (const b of s.batches) {
        await store.append(b);
        n += b.length;
      }
      const ms = performance.now() - t0;
      await store.close();
      return { "events/s": (n * 1000) / ms, "µs/batch": (ms * 1000) / s.batches.length };
    },
  });
}

interface LoadedStore {
  readonly store: EventStore;
  readonly runIds: string[];
  readonly perRun: number;
}

function load(perRun: number, layout: Layout = "objects") {
  const label = perRun >= 1000 ? `${perRun / 1000}k` : String(perRun);
  return defineCase<LoadedStore>({
    name: `${prefix(layout)}.load-${label}`,
    method: `store.load(runId) of a ${perRun.toLocaleString("en-US")}-event run (whole run in one page), 10 such runs in the store, repeated for ≥ 300 ms${layoutNote(layout)}`,
    metric: "events/s",
    better: "higher",
    interleave: `inproc.read-${label}`,
    available,
    async setup() {
      const store = (await loadMemoryStore())({ layout });
      const runIds: string[] = [];
      for (let r = 0; r < 10; r++) {
        const runId = `load-${r}`;
        runIds.push(runId);
        const events = workflowHistory(runId, perRun);
        for (let i = 0; i < events.length; i += 1000) await store.append(events.slice(i, i + 1000));
      }
      return { store, runIds, perRun };
    },
    async run(s) {
      let loads = 0;
      let events = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < 300) {
        const r = await s.store.load(s.runIds[loads % s.runIds.length]!);
        events += r.events.length;
        loads++;
      }
      const ms = performance.now() - t0;
      if (events !== loads * s.perRun) throw new Error(`load returned ${events / loads} events, expected ${s.perRun}`);
      return { "events/s": (events * 1000) / ms, "µs/load": (ms * 1000) / loads };
    },
    teardown: (s) => s.store.close(),
  });
}

const readLogPaging = defineCase<LoadedStore>({
  name: "inproc.memory.read-log.page-1000",
  method: `store.readLog({afterPosition, limit: 1000}) paging through a 100,000-event global log (10,000 quick) from the start to the head${layoutNote("objects")}`,
  metric: "events/s",
  better: "higher",
  available,
  async setup(ctx) {
    const store = (await loadMemoryStore())({ layout: "objects" });
    const runs = pick(ctx, 100, 10);
    for (let r = 0; r < runs; r++) {
      const events = workflowHistory(`log-${r}`, 1000);
      await store.append(events);
    }
    return { store, runIds: [], perRun: 1000 };
  },
  async run(s) {
    let after = 0n;
    let events = 0;
    const t0 = performance.now();
    for (;;) {
      const page = await s.store.readLog({ afterPosition: after, limit: 1000 });
      events += page.events.length;
      after = page.nextAfterPosition;
      if (!page.hasMore) break;
    }
    const ms = performance.now() - t0;
    return { "events/s": (events * 1000) / ms, events };
  },
  teardown: (s) => s.store.close(),
});

export const inProcess: CorpusGroup = {
  group: "in-process: memory store",
  cases: [
    appendSingle(false),
    appendSingle(true),
    appendBatch(100),
    appendBatch(1000),
    appendBatch(1000, "bytes"),
    load(1000),
    load(10_000),
    load(10_000, "bytes"),
    readLogPaging,
  ],
  ratios: [
    { name: "load 10k in process: bytes layout / objects layout (what decoding every read costs)", numerator: "inproc.memory-bytes.load-10k", denominator: "inproc.memory.load-10k" },
    { name: "append batch 1000 in process: bytes layout / objects layout (what encoding every event costs)", numerator: "inproc.memory-bytes.append.batch.b1000", denominator: "inproc.memory.append.batch.b1000" },
  ],
};
