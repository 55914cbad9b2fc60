// In-process: memory held by the in-memory store for 10,000 and 1,000,000
// events. Each repetition runs in a fresh `node --expose-gc` child: full GC,
// baseline, append, full GC, measure. heapUsed misses ArrayBuffer contents, so
// the figure is the heapUsed delta plus the external (ArrayBuffer) delta.
import { defineCase, type BenchCase, type CorpusGroup } from "../lib/bench-case.js";
import { AppendBatchRequestSchema } from "../../gen/runlog/v1/event_store_pb.js";
import { codecFor } from "../../src/codec/codec.js";
import { encodeAppendBatch, workflowHistory } from "../lib/history.js";
import type { Event } from "../../gen/runlog/v1/event_pb.js";
import { loadMemoryStore, loadReconstructor, memoryStoreFile, missing, reconstructorFile } from "../lib/runlog-inproc.js";
import { appendThrough } from "./reconstruct.js";

declare const gc: (() => void) | undefined;

function fullGc(): void {
  if (typeof gc !== "function") throw new Error("run with node --expose-gc");
  for (let i = 0; i < 4; i++) gc();
}

function used(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

/** The events as the server gets them: each batch encoded as an AppendBatchRequest and decoded by the gRPC port's codec. */
function fromWire(events: Event[]): Event[] {
  return codecFor(AppendBatchRequestSchema).decode(encodeAppendBatch(events)).events;
}

function heapCase(events: number, quickEvents: number, withReconstructor: boolean, decoded = false): BenchCase {
  const label = events >= 1_000_000 ? `${events / 1_000_000}m` : `${events / 1000}k`;
  const runs = Math.max(10, events / 1000);
  return defineCase({
    name: `inproc.memory.heap-${label}${withReconstructor ? "-with-snapshots" : ""}${decoded ? "-decoded" : ""}`,
    method:
      `memory held after appending ${events.toLocaleString("en-US")} realistic workflow events (${quickEvents.toLocaleString("en-US")} quick) as ${runs} runs of ${events / runs} events, in batches of 100` +
      (decoded ? ", each batch first encoded and decoded as an AppendBatchRequest by the compiled codec (the objects a gRPC request gives the store)" : ", built in JavaScript") +
      (withReconstructor
        ? ", through a reconstructor with the default options (snapshots every 100 events, 1,000-run state cache), as the server holds them"
        : ", store alone") +
      ": (heapUsed + external) after a full GC minus the same before, in a fresh node --expose-gc process; the input events are garbage by then",
    metric: "MB",
    better: "lower",
    reps: 3,
    target: events === 10_000 && !withReconstructor && !decoded ? { op: "<=", value: 10, source: "issue 2 / ARCHITECTURE §10: 10,000 events held in ≤ 10 MB" } : undefined,
    isolate: { nodeArgs: ["--expose-gc", "--max-old-space-size=8192"] },
    available: async () => missing(memoryStoreFile, ...(withReconstructor ? [reconstructorFile] : [])),
    async run(_state, ctx) {
      const total = ctx.quick ? quickEvents : events;
      const perRun = total / runs;
      const createMemoryEventStore = await loadMemoryStore();
      const { createReconstructor } = await loadReconstructor();
      // Warm-up: load every module and lazy registry once, then drop it.
      {
        const s = createMemoryEventStore();
        await appendThrough(s, createReconstructor({ store: s }), workflowHistory("warm", 200), 100);
      }
      fullGc();
      const before = used();
      const store = createMemoryEventStore();
      const reconstructor = withReconstructor ? createReconstructor({ store }) : undefined;
      for (let r = 0; r < runs; r++) {
        const history = workflowHistory(`mem-${r}`, perRun);
        if (!decoded) await appendThrough(store, reconstructor, history, 100);
        else for (let i = 0; i < perRun; i += 100) await appendThrough(store, reconstructor, fromWire(history.slice(i, i + 100)), 100);
      }
      fullGc();
      const bytes = used() - before;
      if ((await store.headPosition()) !== BigInt(total)) throw new Error("not every event was stored");
      // Keep the store reachable until after the measurement.
      globalThis.__benchKeep = [store, reconstructor];
      return { MB: bytes / 1e6, "bytes/event": bytes / total, events: total };
    },
  });
}

declare global {
  var __benchKeep: unknown;
}

export const memory: CorpusGroup = {
  group: "in-process: memory held",
  cases: [heapCase(10_000, 10_000, false), heapCase(10_000, 10_000, false, true), heapCase(10_000, 10_000, true), heapCase(1_000_000, 100_000, false)],
};
