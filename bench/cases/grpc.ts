// Over the wire: runlog in its own process (bench/servers/runlog-server.ts,
// memory store, default flags) and the bare echo ceiling in its own process
// (bench/servers/echo-server.ts), driven by the same grpc-js client from the
// benchmark process. Client and server never share an event loop: on the
// 2-core machine each gets one core, for runlog and for the ceiling alike.
import { create, toBinary } from "@bufbuild/protobuf";
import { EmptySchema } from "@bufbuild/protobuf/wkt";
import type * as grpc from "@grpc/grpc-js";
import { status } from "@grpc/grpc-js";
import { EventSchema } from "../../gen/runlog/v1/event_pb.js";
import {
  AppendBatchResponseSchema,
  AppendResponseSchema,
  GetLastSequenceRequestSchema,
  GetRunStateRequestSchema,
  LoadRequestSchema,
  ReadLogRequestSchema,
  SubscribeRequestSchema,
} from "../../gen/runlog/v1/event_store_pb.js";
import { defineCase, type BenchCase, type CorpusGroup, type RatioSpec, type RunContext } from "../lib/bench-case.js";
import { echoPath, encodeStreamRequest, listenPath, publishPath, streamPath } from "../lib/echo-service.js";
import {
  conflictActual,
  eventStorePath,
  isGrpcError,
  rawClient,
  serverStream,
  unary,
} from "../lib/grpc-client.js";
import { encodeAppend, encodeAppendBatch, forRun, repeatableEvent, runTemplate, workflowBody, workflowHistory, workflowStarted, type RunTemplate } from "../lib/history.js";
import { closedLoop, openLoop, sleep } from "../lib/load.js";
import { cpuSeconds, type ServerProcess } from "../lib/process.js";
import { runlogServerAvailable, startEcho, startRunlog, type Ports } from "../lib/servers.js";
import { catchUpEvents, durationMs, hotRunWarmUpMs, pick } from "../lib/sizes.js";
import { createLatencyRecorder } from "../lib/stats.js";
import { F, countEvents, indexFromEventId, indexedEventId, scanSubscribeResponse, varintField, bytesField } from "../lib/wire.js";

const Append = eventStorePath("Append");
const AppendBatch = eventStorePath("AppendBatch");
const Load = eventStorePath("Load");
const ReadLog = eventStorePath("ReadLog");
const Subscribe = eventStorePath("Subscribe");
const GetRunState = eventStorePath("GetRunState");
const GetLastSequence = eventStorePath("GetLastSequence");

/** An AppendResponse as runlog sends it: the echo ceiling answers with this many bytes. */
export const appendResponseBytes = toBinary(
  AppendResponseSchema,
  create(AppendResponseSchema, {
    event: { id: "0190f7a2-5c1e-7c3a-9d2b-1f2e3d4c5b6a", runId: "u-000000-00", sequence: 12_345n, position: 1_234_567n },
  }),
).length;
export const appendRequestBytes = encodeAppend(repeatableEvent("u-000000-00")).length;
const eventBytes = toBinary(EventSchema, workflowHistory("u-000000-00", 3)[2]!).length;

let uniq = Date.now() % 1_000_000;
const tag = () => (uniq++).toString(36);
let idTag = (Date.now() % 0xffff) * 0x10000;

/**
 * Which runlog server a case talks to: the sources as they are ("runlog"), or a
 * variant with a proposed change applied (bench/experiments), under its own name prefix.
 */
export interface Flavour {
  readonly label: string;
  available(): Promise<string | undefined>;
  /** Flags that select the server module (before the `runlog serve` flags). */
  serverArgs(): string[];
  /** The server script, when not bench/servers/runlog-server.ts. */
  script?(): string;
  /** Node flags for the server process, after the harness's own. */
  nodeArgs?(): string[];
}

export const baseline: Flavour = {
  label: "runlog",
  available: () => runlogServerAvailable(),
  serverArgs: () => [],
};

interface Wire {
  readonly server: ServerProcess<Ports>;
  readonly client: grpc.Client;
}

async function runlogWire(ctx: RunContext, flavour: Flavour = baseline, args: readonly string[] = []): Promise<Wire> {
  const server = await startRunlog(ctx, [...flavour.serverArgs(), ...args], flavour.script?.(), flavour.nodeArgs?.());
  return { server, client: rawClient(server.info.grpcPort) };
}

async function echoWire(ctx: RunContext, responseBytes = appendResponseBytes): Promise<Wire> {
  const server = await startEcho(ctx, responseBytes);
  return { server, client: rawClient(server.info.grpcPort) };
}

/** Runs `fn` and adds the server process's CPU use during it: utilisation and CPU µs per unit of work. */
export async function withServerCpu<R extends { ops: number; seconds: number }>(
  server: { pid: number },
  fn: () => Promise<R>,
): Promise<R & { serverCpu: number; serverUsPerOp: number }> {
  const before = cpuSeconds(server.pid);
  const r = await fn();
  const cpu = cpuSeconds(server.pid) - before;
  return { ...r, serverCpu: cpu / r.seconds, serverUsPerOp: (cpu * 1e6) / r.ops };
}

async function closeWire(w: Wire): Promise<void> {
  w.client.close();
  await w.server.stop();
}

/** Starts `runs` runs (workflow.started) over the wire. */
async function startRuns(client: grpc.Client, runs: readonly string[]): Promise<void> {
  await Promise.all(runs.map((r) => unary(client, Append, encodeAppend(workflowStarted(r)))));
}

/** Appends whole histories with AppendBatch (≤ 1,000 per call), `lanes` calls in flight. */
async function preload(client: grpc.Client, runs: number, perRun: number, prefix: string, lanes = 2): Promise<void> {
  let next = 0;
  const lane = async () => {
    for (;;) {
      const r = next++;
      if (r >= runs) return;
      const history = workflowHistory(`${prefix}-${r}`, perRun, { serverSequences: true });
      for (let i = 0; i < history.length; i += 1000) await unary(client, AppendBatch, encodeAppendBatch(history.slice(i, i + 1000)));
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
}

// ---- unary Append next to the echo ceiling -----------------------------------------

export function unaryRunlog(lanes: number, flavour: Flavour = baseline): BenchCase {
  return defineCase<Wire & { requests: Uint8Array[] }>({
    name: `${flavour.label}.grpc.append.unary.c${lanes}`,
    method: `unary Append over the gRPC port (grpc-js client, one HTTP/2 connection, ${lanes} call(s) in flight, each lane on its own started run): a ${appendRequestBytes}-byte AppendRequest (context.updated, server-assigned id and sequence) encoded once per lane and resent; lifecycle validation on, snapshots every 100 (server defaults); closed loop 2.5 s after a 0.5 s warm-up`,
    metric: "rpc/s",
    better: "higher",
    interleave: `append.unary.c${lanes}`,
    available: () => flavour.available(),
    async setup(ctx) {
      const w = await runlogWire(ctx, flavour);
      const t = tag();
      const runs = Array.from({ length: lanes }, (_, l) => `u-${t}-${l}`);
      await startRuns(w.client, runs);
      const requests = runs.map((r) => encodeAppend(repeatableEvent(r)));
      await closedLoop(lanes, 500, (lane) => unary(w.client, Append, requests[lane]!).then(() => 1));
      return { ...w, requests };
    },
    async run(s, ctx) {
      const r = await withServerCpu(s.server, () => closedLoop(lanes, durationMs(ctx), (lane) => unary(s.client, Append, s.requests[lane]!).then(() => 1)));
      return { "rpc/s": r.perSecond, "p50 ms": r.latency.percentile(0.5), "p99 ms": r.latency.percentile(0.99), "server CPU µs/call": r.serverUsPerOp, "server CPU %": r.serverCpu * 100 };
    },
    teardown: closeWire,
  });
}

function unaryEcho(lanes: number): BenchCase {
  return defineCase<Wire & { request: Uint8Array }>({
    name: `ceiling.grpc-js.echo.unary.c${lanes}`,
    method: `bare grpc-js echo (identity serializers, handler answers at once) in its own process: the same ${appendRequestBytes}-byte request, a ${appendResponseBytes}-byte response (an AppendResponse's size), same client, ${lanes} in flight, closed loop 2.5 s after a 0.5 s warm-up`,
    metric: "rpc/s",
    better: "higher",
    interleave: `append.unary.c${lanes}`,
    async setup(ctx) {
      const w = await echoWire(ctx);
      const request = encodeAppend(repeatableEvent("u-000000-00"));
      await closedLoop(lanes, 500, () => unary(w.client, echoPath, request).then(() => 1));
      return { ...w, request };
    },
    async run(s, ctx) {
      const r = await withServerCpu(s.server, () => closedLoop(lanes, durationMs(ctx), () => unary(s.client, echoPath, s.request).then(() => 1)));
      return { "rpc/s": r.perSecond, "p50 ms": r.latency.percentile(0.5), "p99 ms": r.latency.percentile(0.99), "server CPU µs/call": r.serverUsPerOp, "server CPU %": r.serverCpu * 100 };
    },
    teardown: closeWire,
  });
}

/** The sequence in an AppendResponse's bytes. */
function appendedSequence(b: Uint8Array): number {
  const event = bytesField(b, 0, b.length, 1);
  return event ? (varintField(b, event[0], event[1], 3) ?? 0) : 0;
}

export function hotRun(lanes: number, flavour: Flavour = baseline): BenchCase {
  return defineCase<Wire>({
    name: `${flavour.label}.grpc.append.hot-run.c${lanes}`,
    method: `${lanes} lanes append to ONE run over gRPC, each with expected_last_sequence = what it last saw; on ABORTED the lane takes the actual sequence from the ConcurrencyConflict detail (grpc-status-details-bin) and retries. rpc/s counts successful appends; closed loop 2.5 s after a ${hotRunWarmUpMs / 1000} s warm-up on another run, a fresh run per repetition`,
    metric: "appends/s",
    better: "higher",
    interleave: `append.hot.c${lanes}`,
    available: () => flavour.available(),
    async setup(ctx) {
      const w = await runlogWire(ctx, flavour);
      await hotRunLoop(w, lanes, hotRunWarmUpMs);
      return w;
    },
    async run(s, ctx) {
      const { r, conflicts } = await hotRunLoop(s, lanes, durationMs(ctx));
      return { "appends/s": r.perSecond, "conflicts/s": conflicts / r.seconds, "conflict share": conflicts / (conflicts + r.ops) };
    },
    teardown: closeWire,
  });
}

/** `lanes` writers on one fresh run for `ms`, each retrying on ABORTED from the sequence the conflict names. */
async function hotRunLoop(s: Wire, lanes: number, ms: number) {
  const run = `hot-${tag()}`;
  await startRuns(s.client, [run]);
  const belief = new Array<number>(lanes).fill(1);
  const event = repeatableEvent(run);
  let conflicts = 0;
  const r = await closedLoop(lanes, ms, async (lane) => {
    try {
      const res = await unary(s.client, Append, encodeAppend(event, BigInt(belief[lane]!)));
      belief[lane] = appendedSequence(res);
      return 1;
    } catch (error) {
      if (!isGrpcError(error, status.ABORTED)) throw error;
      conflicts++;
      const actual = conflictActual(error);
      if (actual !== undefined) belief[lane] = actual;
      else {
        const res = await unary(s.client, GetLastSequence, toBinary(GetLastSequenceRequestSchema, create(GetLastSequenceRequestSchema, { runId: run })));
        belief[lane] = varintField(res, 0, res.length, 1) ?? 0;
      }
      return 0;
    }
  });
  return { r, conflicts };
}

// ---- AppendBatch ---------------------------------------------------------------------

/**
 * Unmeasured load before an AppendBatch case's repetitions. With 0.5 s, TurboFan
 * was still compiling the append path during the repetitions: 15 % of the server
 * process's samples in a b100 case (perf), on the core the client needs, and the
 * first repetition often half the others (bench/OPTIMISATIONS.md, "In bench/").
 */
const batchWarmUpMs = 3_000;

/** Runs of AppendBatch cases stop at this many events; then the lane moves to a new run. */
const batchRunLength = 10_000;

export function appendBatch(size: number, flavour: Flavour = baseline): BenchCase {
  const lanes = 4;
  const batchesPerRun = Math.max(1, Math.floor(batchRunLength / size));
  return defineCase<Wire & { first: RunTemplate; body: RunTemplate; next: () => string }>({
    name: `${flavour.label}.grpc.append-batch.b${size}`,
    method: `AppendBatch of ${size} realistic workflow events of one run (steps started/completed/failed-and-retried with JSON outputs, branches, context updates; server-assigned sequences), ${lanes} lanes on distinct runs; each lane moves to a new run after ${(batchesPerRun * size).toLocaleString("en-US")} events (its first batch starts with workflow.started), so run states stay realistic; requests encoded once and re-targeted to each run by rewriting the run-id bytes; closed loop 2.5 s after a ${batchWarmUpMs / 1000} s warm-up`,
    metric: "events/s",
    better: "higher",
    interleave: `append.batch.b${size}`,
    target: size >= 100 ? { op: ">=", value: 300_000, source: "issue 5 / ARCHITECTURE §10: AppendBatch ≥ 300,000 events/s over gRPC (memory store)" } : undefined,
    available: () => flavour.available(),
    async setup(ctx) {
      const w = await runlogWire(ctx, flavour);
      const t = tag().padStart(6, "0").slice(-6);
      let n = 0;
      const next = () => `b-${t}-${(n++).toString().padStart(7, "0")}`;
      const templateRun = "b-000000-0000000";
      const history = workflowHistory(templateRun, size + 1, { serverSequences: true });
      const first = runTemplate(encodeAppendBatch(history.slice(0, size)), templateRun);
      const body = runTemplate(encodeAppendBatch(workflowBody(templateRun, 1, size, { serverSequences: true })), templateRun);
      const s = { ...w, first, body, next };
      await batchLoop(s, batchWarmUpMs, size, lanes, batchesPerRun);
      return s;
    },
    async run(s, ctx) {
      const r = await withServerCpu(s.server, () => batchLoop(s, durationMs(ctx), size, lanes, batchesPerRun));
      return { "events/s": r.perSecond, "batch p50 ms": r.latency.percentile(0.5), "server CPU µs/event": r.serverUsPerOp, "server CPU %": r.serverCpu * 100 };
    },
    teardown: closeWire,
  });
}

/** An AppendBatchResponse for `size` events of one run, as runlog sends it: the batch echo answers with this many bytes. */
function appendBatchResponseBytes(size: number): number {
  const events = Array.from({ length: size }, (_, i) => ({
    id: "0190f7a2-5c1e-7c3a-9d2b-1f2e3d4c5b6a",
    runId: "b-000000-0000000",
    sequence: BigInt(9_000 + i),
    position: BigInt(1_234_567 + i),
  }));
  return toBinary(AppendBatchResponseSchema, create(AppendBatchResponseSchema, { events })).length;
}

/**
 * The ceiling for AppendBatch: the bare grpc-js echo receiving the very request
 * bytes runlog's case sends and answering with an AppendBatchResponse's size,
 * same client, same lanes — what the transport alone costs per batch.
 */
function batchEcho(size: number): BenchCase {
  const lanes = 4;
  const responseBytes = appendBatchResponseBytes(size);
  return defineCase<Wire & { request: Uint8Array }>({
    name: `ceiling.grpc-js.echo.batch.b${size}`,
    method: `bare grpc-js echo (identity serializers, handler answers at once) in its own process: the AppendBatch request of runlog.grpc.append-batch.b${size} (${size} events), a ${responseBytes.toLocaleString("en-US")}-byte response (an AppendBatchResponse's size), same client, ${lanes} in flight, closed loop 2.5 s after a ${batchWarmUpMs / 1000} s warm-up; counted as ${size} events per call`,
    metric: "events/s",
    better: "higher",
    interleave: `append.batch.b${size}`,
    async setup(ctx) {
      const w = await echoWire(ctx, responseBytes);
      const templateRun = "b-000000-0000000";
      const request = encodeAppendBatch(workflowBody(templateRun, 1, size, { serverSequences: true }));
      await closedLoop(lanes, batchWarmUpMs, () => unary(w.client, echoPath, request).then(() => size));
      return { ...w, request };
    },
    async run(s, ctx) {
      const r = await withServerCpu(s.server, () => closedLoop(lanes, durationMs(ctx), () => unary(s.client, echoPath, s.request).then(() => size)));
      return { "events/s": r.perSecond, "batch p50 ms": r.latency.percentile(0.5), "server CPU µs/event": r.serverUsPerOp, "server CPU %": r.serverCpu * 100 };
    },
    teardown: closeWire,
  });
}

function batchLoop(
  s: Wire & { first: RunTemplate; body: RunTemplate; next: () => string },
  ms: number,
  size: number,
  lanes: number,
  batchesPerRun: number,
) {
  const state = Array.from({ length: lanes }, () => ({ left: 0, body: s.body.bytes }));
  return closedLoop(lanes, ms, async (lane) => {
    const l = state[lane]!;
    let request: Uint8Array;
    if (l.left === 0) {
      const run = s.next();
      request = forRun(s.first, run);
      l.body = forRun(s.body, run);
      l.left = batchesPerRun - 1;
    } else {
      request = l.body;
      l.left--;
    }
    await unary(s.client, AppendBatch, request);
    return size;
  });
}

// ---- reads ---------------------------------------------------------------------------

export const loadCase = (flavour: Flavour = baseline) => defineCase<Wire>({
  name: `${flavour.label}.grpc.load-10k`,
  method: "Load of a whole 10,000-event run, following has_more / next_after_sequence until the end (the server cuts pages at 10,000 events or ~1 MiB), 10 such runs round robin, 2 loads in flight, closed loop 2.5 s; the client counts events with a wire scan",
  metric: "events/s",
  better: "higher",
  interleave: "load-10k",
  available: () => flavour.available(),
  async setup(ctx) {
    const w = await runlogWire(ctx, flavour);
    await preload(w.client, 10, 10_000, "load");
    return w;
  },
  async run(s, ctx) {
    let pages = 0;
    const r = await withServerCpu(s.server, () =>
      closedLoop(2, durationMs(ctx), async (_lane, i) => {
        const runId = `load-${i % 10}`;
        let after = 0n;
        let n = 0;
        for (;;) {
          const res = await unary(s.client, Load, toBinary(LoadRequestSchema, create(LoadRequestSchema, { runId, afterSequence: after })));
          pages++;
          n += countEvents(res);
          after = BigInt(varintField(res, 0, res.length, F.loadNextAfter) ?? 0);
          if (!varintField(res, 0, res.length, F.loadHasMore)) break;
        }
        if (n !== 10_000) throw new Error(`Load returned ${n} events`);
        return n;
      }),
    );
    return {
      "events/s": r.perSecond,
      "ms/load p50": r.latency.percentile(0.5),
      "pages/load": (pages * 10_000) / r.ops,
      "server CPU µs/event": r.serverUsPerOp,
    };
  },
  teardown: closeWire,
});

export const readLogCase = (flavour: Flavour = baseline) => defineCase<Wire & { total: number }>({
  name: `${flavour.label}.grpc.read-log.page-1000`,
  method: "ReadLog(after_position, limit 1000) paging from the start to the head of a 100,000-event log (10,000 quick), one call at a time",
  metric: "events/s",
  better: "higher",
  interleave: "read-log",
  available: () => flavour.available(),
  async setup(ctx) {
    const w = await runlogWire(ctx, flavour);
    const runs = pick(ctx, 100, 10);
    await preload(w.client, runs, 1000, "log");
    return { ...w, total: runs * 1000 };
  },
  async run(s) {
    let after = 0;
    let events = 0;
    const t0 = performance.now();
    for (;;) {
      const res = await unary(s.client, ReadLog, toBinary(ReadLogRequestSchema, create(ReadLogRequestSchema, { afterPosition: BigInt(after), limit: 1000 })));
      events += countEvents(res);
      after = varintField(res, 0, res.length, F.readLogNextAfter) ?? after;
      if (!varintField(res, 0, res.length, F.readLogHasMore)) break;
    }
    const ms = performance.now() - t0;
    if (events !== s.total) throw new Error(`read ${events} of ${s.total}`);
    return { "events/s": (events * 1000) / ms };
  },
  teardown: closeWire,
});

// ---- Subscribe catch-up and the server-stream ceiling -----------------------------------

const subscribeAll = toBinary(SubscribeRequestSchema, create(SubscribeRequestSchema, {}));
const subscribeFromNow = toBinary(
  SubscribeRequestSchema,
  create(SubscribeRequestSchema, { start: { case: "fromNow", value: create(EmptySchema) } }),
);

export const catchUpCase = (flavour: Flavour = baseline) => defineCase<Wire & { total: number }>({
  name: `${flavour.label}.grpc.subscribe.catch-up`,
  method: "Subscribe(all runs, from the beginning) on a server holding 1,000,000 events (100,000 quick; 1,000 runs of realistic events, appended by AppendBatch), from the call until caught_up; one client, events counted by a wire scan",
  metric: "events/s",
  better: "higher",
  reps: 3,
  interleave: "catch-up",
  target: { op: ">=", value: 300_000, source: "issue 5 / ARCHITECTURE §10: Subscribe catch-up ≥ 300,000 events/s to one client" },
  available: () => flavour.available(),
  async setup(ctx) {
    const w = await runlogWire(ctx, flavour);
    const total = catchUpEvents(ctx);
    const t0 = performance.now();
    await preload(w.client, total / 1000, 1000, "cu");
    ctx.log(`preloaded ${total} events in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return { ...w, total };
  },
  async run(s) {
    let events = 0;
    let messages = 0;
    let bytes = 0;
    const cpu0 = cpuSeconds(s.server.pid);
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      const h = serverStream(s.client, Subscribe, subscribeAll, (b) => {
        messages++;
        bytes += b.length;
        const scan = scanSubscribeResponse(b);
        events += scan.count;
        if (scan.kind === F.subscribeCaughtUp) {
          h.cancel();
          resolve();
        }
      });
      h.done.then(() => reject(new Error("stream ended before caught_up")), reject);
    });
    const ms = performance.now() - t0;
    const cpu = cpuSeconds(s.server.pid) - cpu0;
    if (events !== s.total) throw new Error(`caught up after ${events} of ${s.total} events`);
    return {
      "events/s": (events * 1000) / ms,
      "MB/s": bytes / 1000 / ms,
      "events/message": events / (messages - 1),
      "server CPU µs/event": (cpu * 1e6) / events,
      "server CPU %": (cpu * 1e5) / ms,
    };
  },
  teardown: closeWire,
});

function streamCeiling(eventsPerMessage: number): BenchCase {
  const size = eventBytes * eventsPerMessage + 3 * eventsPerMessage;
  return defineCase<Wire>({
    name: `ceiling.grpc-js.echo.stream.ev${eventsPerMessage}`,
    method: `bare grpc-js server stream (write() with drain backpressure) of ${size}-byte messages — ${eventsPerMessage} event(s) of ${eventBytes} bytes each — 1,000,000 events' worth (100,000 quick), same client; figures in events/s equivalent`,
    metric: "events/s",
    better: "higher",
    reps: 3,
    interleave: "catch-up",
    setup: (ctx) => echoWire(ctx),
    async run(s, ctx) {
      const count = catchUpEvents(ctx) / eventsPerMessage;
      let messages = 0;
      let bytes = 0;
      const t0 = performance.now();
      const h = serverStream(s.client, streamPath, encodeStreamRequest(count, size), (b) => {
        messages++;
        bytes += b.length;
      });
      await h.done;
      const ms = performance.now() - t0;
      if (messages !== count) throw new Error(`received ${messages} of ${count} messages`);
      return { "events/s": (messages * eventsPerMessage * 1000) / ms, "MB/s": bytes / 1000 / ms, "messages/s": (messages * 1000) / ms };
    },
    teardown: closeWire,
  });
}

// ---- live fan-out ----------------------------------------------------------------------------

interface FanOut extends Wire {
  readonly channels: grpc.Client[];
}

async function fanOutSetup(ctx: RunContext, subscribers: number, flavour: Flavour): Promise<FanOut> {
  const w = await runlogWire(ctx, flavour);
  const channels = Array.from({ length: Math.min(subscribers, 8) }, () => rawClient(w.server.info.grpcPort));
  return { ...w, channels };
}

async function fanOutTeardown(s: FanOut): Promise<void> {
  for (const c of s.channels) c.close();
  await closeWire(s);
}

/** Opens `n` Subscribe(all, from now) streams and waits until each said caught_up. */
async function openSubscribers(s: FanOut, n: number, onEvents: (buf: Buffer, spans: number[], subscriber: number) => void) {
  const handles: { cancel(): void }[] = [];
  const ready: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const spans: number[] = [];
    let caughtUp!: () => void;
    ready.push(new Promise<void>((r) => (caughtUp = r)));
    const h = serverStream(s.channels[i % s.channels.length]!, Subscribe, subscribeFromNow, (b) => {
      const scan = scanSubscribeResponse(b, spans);
      if (scan.kind === F.subscribeCaughtUp) caughtUp();
      else if (scan.count > 0) onEvents(b, spans, i);
    });
    h.done.catch(() => {});
    handles.push(h);
  }
  await Promise.race([Promise.all(ready), sleep(5000)]);
  return () => handles.forEach((h) => h.cancel());
}

async function waitFor(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
  const t0 = performance.now();
  while (!predicate()) {
    if (performance.now() - t0 > timeoutMs) return false;
    await sleep(2);
  }
  return true;
}

/** Waits for the writes and the deliveries (10 s at most), stops the streams, and reports. */
async function latencyFigures(
  latency: ReturnType<typeof createLatencyRecorder>,
  pending: Promise<unknown>[],
  received: () => number,
  expected: number,
  durationMs: number,
  stop: () => void,
) {
  await Promise.all(pending);
  const complete = await waitFor(() => received() >= expected, 10_000);
  stop();
  return {
    "p99 ms": latency.percentile(0.99),
    "p50 ms": latency.percentile(0.5),
    "max ms": latency.percentile(1),
    "deliveries/s": (received() * 1000) / durationMs,
    "missing deliveries": complete ? 0 : expected - received(),
  };
}

/**
 * Servers are measured warm: a fresh server process compiles its hot paths during
 * its first second of load (the first repetition's p50 was 0.2–2 s, a backlog,
 * in most runs), so both the runlog and the relay cases run this long an
 * unmeasured stretch of the same workload after they start.
 */
const latencyWarmUpMs = 1500;

/** One open-loop latency measurement against runlog: 10 runs, `subscribers` streams, 1,000 Appends/s. */
async function runlogLatency(s: FanOut, subscribers: number, duration: number) {
  const runs = Array.from({ length: 10 }, (_, r) => `fl-${tag()}-${r}`);
  await startRuns(s.client, runs);
  const idTagHere = ++idTag;
  const sentAt = new Float64Array(Math.ceil(duration * 1.2) + 100);
  const latency = createLatencyRecorder(1 << 20);
  let received = 0;
  const close = await openSubscribers(s, subscribers, (buf, spans) => {
    const now = performance.now();
    for (let k = 0; k < spans.length; k += 2) {
      const i = indexFromEventId(buf, spans[k]!, spans[k + 1]!);
      if (i < 0 || i >= sentAt.length || sentAt[i] === 0) continue;
      latency.add(now - sentAt[i]!);
      received++;
    }
  });
  const events = runs.map((r) => repeatableEvent(r));
  const pending: Promise<unknown>[] = [];
  const sent = await openLoop(1000, duration, (i) => {
    const e = events[i % events.length]!;
    const request = encodeAppend({ ...e, id: indexedEventId(i, idTagHere) });
    sentAt[i] = performance.now();
    pending.push(unary(s.client, Append, request));
  });
  return latencyFigures(latency, pending, () => received, sent * subscribers, duration, close);
}

export function fanOutLatency(subscribers: number, flavour: Flavour = baseline): BenchCase {
  return defineCase<FanOut>({
    name: `${flavour.label}.grpc.fan-out.s${subscribers}.latency-1k-per-s`,
    method: `${subscribers} Subscribe(all runs, from now) streams (over ${Math.min(subscribers, 8)} connections) while one writer sends 1,000 unary Appends/s (open loop, 10 runs, 3 s; 1 s quick; after a ${latencyWarmUpMs / 1000} s unmeasured warm-up of the same load on the fresh server); latency = delivery to a subscriber − the moment the Append was sent, per (event, subscriber), all in the benchmark process`,
    metric: "p99 ms",
    better: "lower",
    reps: 3,
    target: subscribers === 10 ? { op: "<=", value: 5, source: "issue 5 / ARCHITECTURE §10: p99 append→delivery ≤ 5 ms at 1,000 appends/s with 10 subscribers" } : undefined,
    interleave: `fan-out.s${subscribers}.latency`,
    available: () => flavour.available(),
    async setup(ctx) {
      const s = await fanOutSetup(ctx, subscribers, flavour);
      await runlogLatency(s, subscribers, latencyWarmUpMs);
      return s;
    },
    run: (s, ctx) => runlogLatency(s, subscribers, pick(ctx, 3000, 1000)),
    teardown: fanOutTeardown,
  });
}

/** One open-loop latency measurement against the echo server's relay. */
async function relayLatency(s: FanOut, subscribers: number, duration: number) {
  const sentAt = new Float64Array(Math.ceil(duration * 1.2) + 100);
  const latency = createLatencyRecorder(1 << 20);
  let received = 0;
  const ready: Promise<void>[] = [];
  const handles = Array.from({ length: subscribers }, (_, i) => {
    let listening!: () => void;
    ready.push(new Promise<void>((r) => (listening = r)));
    const h = serverStream(s.channels[i % s.channels.length]!, listenPath, new Uint8Array(0), (b) => {
      if (b.length < 8) return listening();
      const now = performance.now();
      const k = b.readUInt32LE(0);
      if (sentAt[k] === 0) return;
      latency.add(now - sentAt[k]!);
      received++;
    });
    h.done.catch(() => {});
    return h;
  });
  await Promise.all(ready);
  const pending: Promise<unknown>[] = [];
  const sent = await openLoop(1000, duration, (i) => {
    const message = Buffer.alloc(eventBytes);
    message.writeUInt32LE(i, 0);
    sentAt[i] = performance.now();
    pending.push(unary(s.client, publishPath, message));
  });
  return latencyFigures(latency, pending, () => received, sent * subscribers, duration, () => handles.forEach((h) => h.cancel()));
}

/**
 * The same open-loop workload against the echo server's relay (Publish writes the
 * request to every Listen stream): the latency grpc-js itself adds on this machine.
 */
export function fanOutLatencyCeiling(subscribers: number): BenchCase {
  return defineCase<FanOut>({
    name: `ceiling.grpc-js.relay.s${subscribers}.latency-1k-per-s`,
    method: `bare grpc-js relay: ${subscribers} server streams (over ${Math.min(subscribers, 8)} connections) while one writer sends 1,000 unary Publish calls/s of ${eventBytes} bytes (open loop, 3 s; 1 s quick; after a ${latencyWarmUpMs / 1000} s unmeasured warm-up), each written to every stream by the handler; latency = delivery − send, per (message, stream), all in the benchmark process`,
    metric: "p99 ms",
    better: "lower",
    reps: 3,
    interleave: `fan-out.s${subscribers}.latency`,
    async setup(ctx) {
      const w = await echoWire(ctx);
      const channels = Array.from({ length: Math.min(subscribers, 8) }, () => rawClient(w.server.info.grpcPort));
      const s = { ...w, channels };
      await relayLatency(s, subscribers, latencyWarmUpMs);
      return s;
    },
    run: (s, ctx) => relayLatency(s, subscribers, pick(ctx, 3000, 1000)),
    teardown: fanOutTeardown,
  });
}

export function fanOutThroughput(subscribers: number, flavour: Flavour = baseline): BenchCase {
  return defineCase<FanOut>({
    name: `${flavour.label}.grpc.fan-out.s${subscribers}.throughput`,
    method: `${subscribers} Subscribe(all runs, from now) streams (over ${Math.min(subscribers, 8)} connections) while 2 writers append AppendBatch(100) as fast as they can for 2.5 s; deliveries/s = events received by all subscribers together ÷ time from the first append to the last delivery`,
    metric: "deliveries/s",
    better: "higher",
    reps: 3,
    target: subscribers === 100 ? { op: ">=", value: 200_000, source: "issue 5: fan-out to 100 subscribers ≥ 200,000 deliveries/s" } : undefined,
    interleave: `fan-out.s${subscribers}.throughput`,
    available: () => flavour.available(),
    setup: (ctx) => fanOutSetup(ctx, subscribers, flavour),
    async run(s, ctx) {
      const runs = Array.from({ length: 2 }, (_, r) => `ft-${tag()}-${r}`);
      await startRuns(s.client, runs);
      const requests = runs.map((r) => encodeAppendBatch(workflowBody(r, 1, 100, { serverSequences: true })));
      let received = 0;
      let last = 0;
      const close = await openSubscribers(s, subscribers, (_b, spans) => {
        received += spans.length / 2;
        last = performance.now();
      });
      const cpu0 = cpuSeconds(s.server.pid);
      const t0 = performance.now();
      const r = await closedLoop(2, durationMs(ctx), (lane) => unary(s.client, AppendBatch, requests[lane]!).then(() => 100));
      const expected = r.ops * subscribers;
      const complete = await waitFor(() => received >= expected, 60_000);
      const cpu = cpuSeconds(s.server.pid) - cpu0;
      close();
      return {
        "deliveries/s": (received * 1000) / (last - t0),
        "server CPU µs/delivery": (cpu * 1e6) / received,
        "appends/s": r.perSecond,
        "drain s after writers": (last - t0) / 1000 - r.seconds,
        "missing deliveries": complete ? 0 : expected - received,
      };
    },
    teardown: fanOutTeardown,
  });
}

// ---- GetRunState ----------------------------------------------------------------------------

export function getRunState(snapshots: boolean, flavour: Flavour = baseline): BenchCase {
  return defineCase<Wire & { request: Uint8Array }>({
    name: `${flavour.label}.grpc.get-run-state-10k.${snapshots ? "snapshot" : "no-snapshot"}`,
    method: snapshots
      ? "GetRunState of a 10,000-event run (appended by AppendBatch of 1,000) with snapshots every 100 (default): the latest snapshot at 10,000 is decoded, nothing to replay; one call at a time, 2.5 s"
      : "GetRunState of the same 10,000-event run on a server started with --snapshot-every 0: full replay of 10,000 events; one call at a time, 2.5 s",
    metric: "ms/call p50",
    better: "lower",
    interleave: "get-run-state-10k",
    available: () => flavour.available(),
    async setup(ctx) {
      const w = await runlogWire(ctx, flavour, snapshots ? [] : ["--snapshot-every", "0"]);
      await preload(w.client, 1, 10_000, "state", 1);
      const request = toBinary(GetRunStateRequestSchema, create(GetRunStateRequestSchema, { runId: "state-0" }));
      await closedLoop(1, 300, () => unary(w.client, GetRunState, request).then(() => 1));
      return { ...w, request };
    },
    async run(s, ctx) {
      const r = await closedLoop(1, durationMs(ctx), () => unary(s.client, GetRunState, s.request).then(() => 1));
      return { "ms/call p50": r.latency.percentile(0.5), "p99 ms": r.latency.percentile(0.99), "calls/s": r.perSecond };
    },
    teardown: closeWire,
  });
}

const echoTarget: RatioSpec["target"] = { op: ">=", value: 0.7, source: "issue 5 / ARCHITECTURE §10: unary Append ≥ 0.7× the bare grpc-js echo ceiling" };

export const grpcCases: CorpusGroup = {
  group: "over the wire: gRPC port (grpc-js), memory store",
  cases: [
    unaryEcho(1),
    unaryRunlog(1),
    unaryEcho(16),
    unaryRunlog(16),
    unaryEcho(64),
    unaryRunlog(64),
    hotRun(16),
    appendBatch(10),
    batchEcho(100),
    appendBatch(100),
    batchEcho(1000),
    appendBatch(1000),
    loadCase(),
    readLogCase(),
    streamCeiling(1),
    streamCeiling(100),
    catchUpCase(),
    fanOutLatencyCeiling(1),
    fanOutLatency(1),
    fanOutLatencyCeiling(10),
    fanOutLatency(10),
    fanOutLatencyCeiling(100),
    fanOutLatency(100),
    fanOutThroughput(1),
    fanOutThroughput(10),
    fanOutThroughput(100),
    getRunState(true),
    getRunState(false),
  ],
  ratios: [
    { name: "unary Append c1: runlog / grpc-js echo", numerator: "runlog.grpc.append.unary.c1", denominator: "ceiling.grpc-js.echo.unary.c1", target: echoTarget },
    { name: "unary Append c16: runlog / grpc-js echo", numerator: "runlog.grpc.append.unary.c16", denominator: "ceiling.grpc-js.echo.unary.c16", target: echoTarget },
    { name: "unary Append c64: runlog / grpc-js echo", numerator: "runlog.grpc.append.unary.c64", denominator: "ceiling.grpc-js.echo.unary.c64", target: echoTarget },
    { name: "AppendBatch b100: runlog / grpc-js echo of the same request bytes, events/s", numerator: "runlog.grpc.append-batch.b100", denominator: "ceiling.grpc-js.echo.batch.b100" },
    { name: "AppendBatch b1000: runlog / grpc-js echo of the same request bytes, events/s", numerator: "runlog.grpc.append-batch.b1000", denominator: "ceiling.grpc-js.echo.batch.b1000" },
    { name: "catch-up: runlog Subscribe / grpc-js stream ceiling (100 events per message), events/s", numerator: "runlog.grpc.subscribe.catch-up", denominator: "ceiling.grpc-js.echo.stream.ev100" },
    { name: "catch-up: runlog Subscribe / grpc-js stream ceiling (1 event per message), events/s", numerator: "runlog.grpc.subscribe.catch-up", denominator: "ceiling.grpc-js.echo.stream.ev1" },
    { name: "live p99 append→delivery, 10 subscribers: runlog / bare grpc-js relay (time ratio; 1: runlog adds nothing)", numerator: "runlog.grpc.fan-out.s10.latency-1k-per-s", denominator: "ceiling.grpc-js.relay.s10.latency-1k-per-s", metric: "p99 ms" },
    { name: "live p99 append→delivery, 1 subscriber: runlog / bare grpc-js relay (time ratio)", numerator: "runlog.grpc.fan-out.s1.latency-1k-per-s", denominator: "ceiling.grpc-js.relay.s1.latency-1k-per-s", metric: "p99 ms" },
    { name: "live p50 append→delivery, 100 subscribers: runlog / bare grpc-js relay (time ratio)", numerator: "runlog.grpc.fan-out.s100.latency-1k-per-s", denominator: "ceiling.grpc-js.relay.s100.latency-1k-per-s", metric: "p50 ms" },
    { name: "GetRunState 10k: no snapshot / snapshot (time ratio; > 1: the snapshot helps)", numerator: "runlog.grpc.get-run-state-10k.no-snapshot", denominator: "runlog.grpc.get-run-state-10k.snapshot" },
    { name: "unary Append c1: runlog / NATS JetStream memory sync publish", numerator: "runlog.grpc.append.unary.c1", denominator: "peer.nats.memory.append.sync.c1", metric: undefined, target: { op: ">=", value: 1, source: "ARCHITECTURE §10 (runlog ahead)" } },
    { name: "unary Append c16: runlog / NATS JetStream memory sync publish", numerator: "runlog.grpc.append.unary.c16", denominator: "peer.nats.memory.append.sync.c16", target: { op: ">=", value: 1, source: "ARCHITECTURE §10" } },
    { name: "unary Append c64: runlog / NATS JetStream memory sync publish", numerator: "runlog.grpc.append.unary.c64", denominator: "peer.nats.memory.append.sync.c64", target: { op: ">=", value: 1, source: "ARCHITECTURE §10" } },
    // NATS's file storage answers these faster than its memory storage on this machine: the
    // memory store's last-sequence-per-subject check is the dearer one. Both are shown.
    { name: "unary Append c1: runlog / NATS JetStream file sync publish", numerator: "runlog.grpc.append.unary.c1", denominator: "peer.nats.file.append.sync.c1" },
    { name: "unary Append c16: runlog / NATS JetStream file sync publish", numerator: "runlog.grpc.append.unary.c16", denominator: "peer.nats.file.append.sync.c16" },
    { name: "unary Append c64: runlog / NATS JetStream file sync publish", numerator: "runlog.grpc.append.unary.c64", denominator: "peer.nats.file.append.sync.c64" },
    { name: "unary c16: bare grpc-js echo / NATS JetStream file sync publish (the transport's ceiling against the peer)", numerator: "ceiling.grpc-js.echo.unary.c16", denominator: "peer.nats.file.append.sync.c16" },
    { name: "hot run c16 (successful appends): runlog / NATS memory", numerator: "runlog.grpc.append.hot-run.c16", denominator: "peer.nats.memory.append.hot-run.c16", target: { op: ">=", value: 1, source: "ARCHITECTURE §10" } },
    { name: "batch 100: runlog AppendBatch / NATS memory async publish", numerator: "runlog.grpc.append-batch.b100", denominator: "peer.nats.memory.append.async.b100", target: { op: ">=", value: 1, source: "ARCHITECTURE §10" } },
    { name: "batch 1000: runlog AppendBatch / NATS memory async publish", numerator: "runlog.grpc.append-batch.b1000", denominator: "peer.nats.memory.append.async.b1000", target: { op: ">=", value: 1, source: "ARCHITECTURE §10" } },
    { name: "catch-up: runlog Subscribe / NATS memory ordered consumer", numerator: "runlog.grpc.subscribe.catch-up", denominator: "peer.nats.memory.catch-up", target: { op: ">=", value: 1, source: "ARCHITECTURE §10" } },
    { name: "load 10k-event run: runlog Load / NATS ordered consumer on the subject", numerator: "runlog.grpc.load-10k", denominator: "peer.nats.memory.load-10k", target: { op: ">=", value: 1, source: "ARCHITECTURE §10" } },
  ],
};
