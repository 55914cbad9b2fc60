// In-process stage breakdown of the over-the-wire paths: the service handlers
// (src/service) called directly, with the protobuf decoding of the request and
// the encoding of the response a transport would do, timed stage by stage.
// These say where a gap to a target comes from without a profiler.
import { create, equals, fromBinary, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import type { HandlerContext } from "@connectrpc/connect";
import { EventSchema, type Event } from "../../gen/runlog/v1/event_pb.js";
import {
  AppendBatchRequestSchema,
  AppendBatchResponseSchema,
  AppendRequestSchema,
  AppendResponseSchema,
  EventBatchSchema,
  SubscribeResponseSchema,
} from "../../gen/runlog/v1/event_store_pb.js";
import { defineCase, type BenchCase, type CorpusGroup } from "../lib/bench-case.js";
import { encodeAppend, encodeAppendBatch, forRun, repeatableEvent, runTemplate, workflowBody, workflowHistory, workflowStarted, type RunTemplate } from "../lib/history.js";
import { loadMemoryStore, loadReconstructor, memoryStoreFile, missing, reconstructorFile } from "../lib/runlog-inproc.js";
import { codecFor, requestDecoderFor } from "../../src/codec/codec.js";
import { rememberReceived } from "../../src/service/received-bytes.js";
import { RunStateSchema } from "../../gen/runlog/v1/run_state_pb.js";

const available = async () => missing(memoryStoreFile, reconstructorFile, "src/service/event-store-service.ts");

async function service(snapshotEvery?: number) {
  const [{ createEventStoreService }, { silentLogger }, { defaultLimits }] = await Promise.all([
    import("../../src/service/event-store-service.js"),
    import("../../src/logger.js"),
    import("../../src/limits.js"),
  ]);
  const store = (await loadMemoryStore())();
  const { createReconstructor } = await loadReconstructor();
  const reconstructor = createReconstructor({ store, ...(snapshotEvery !== undefined && { snapshotEvery }) });
  const impl = createEventStoreService({ store, reconstructor, limits: defaultLimits, lifecycleValidation: true, logger: silentLogger });
  const context = { signal: new AbortController().signal } as HandlerContext;
  return { impl, context, store };
}

type Service = Awaited<ReturnType<typeof service>>;

/** Runs `fn` for ≥ `ms` and returns the mean µs per call. */
async function meanMicros(ms: number, fn: (i: number) => unknown): Promise<number> {
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    for (let k = 0; k < 10; k++) await fn(n++);
  }
  return ((performance.now() - t0) * 1000) / n;
}

const batchSize = 1000;

const appendBatchStages = (snapshotEvery?: number) => defineCase<Service & { first: RunTemplate; body: RunTemplate }>({
  name: `inproc.breakdown.append-batch-1000${snapshotEvery === undefined ? "" : `.snapshot-every-${snapshotEvery}`}`,
  method:
    "the AppendBatch(1,000 realistic events) path of the server without a transport, stage by stage, mean µs per event: decode the request and encode the response as the gRPC port does (the compiled codec, src/codec; requests by requestDecoderFor, JSON values left encoded until read), the handler (validation, lifecycle check, store.append, snapshots) between; 10 fresh runs of 10,000 events per repetition (100 batches, the first of each run starting with workflow.started)" +
    (snapshotEvery === undefined ? "; default snapshot interval" : `; snapshots every ${snapshotEvery} (0: none)`),
  metric: "µs/event total",
  better: "lower",
  interleave: "breakdown.append-batch",
  available,
  async setup() {
    const s = await service(snapshotEvery);
    const templateRun = "bd-0000000";
    const history = workflowHistory(templateRun, batchSize, { serverSequences: true });
    const first = runTemplate(encodeAppendBatch(history), templateRun);
    const body = runTemplate(encodeAppendBatch(workflowBody(templateRun, 1, batchSize, { serverSequences: true })), templateRun);
    return { ...s, first, body };
  },
  async run(s, ctx) {
    const bytes: Uint8Array[] = [];
    for (let r = 0; r < 10; r++) {
      const run = `bd-${(ctx.rep * 10 + r).toString().padStart(7, "0")}`;
      bytes.push(forRun(s.first, run));
      const body = forRun(s.body, run);
      for (let b = 1; b < 10; b++) bytes.push(body);
    }
    let t0 = performance.now();
    // As the gRPC port does: decode, and remember the bytes (the store keeps each event's).
    const requests = bytes.map((b) => {
      const request = requestDecoderFor(AppendBatchRequestSchema)(b);
      rememberReceived(request, b);
      return request;
    });
    const decode = (performance.now() - t0) * 1000;
    let response: Awaited<ReturnType<Service["impl"]["appendBatch"]>> | undefined;
    t0 = performance.now();
    for (const request of requests) response = await s.impl.appendBatch(request, s.context);
    const handler = (performance.now() - t0) * 1000;
    const message = create(AppendBatchResponseSchema, response!);
    t0 = performance.now();
    for (let i = 0; i < requests.length; i++) codecFor(AppendBatchResponseSchema).encode(message);
    const encode = (performance.now() - t0) * 1000;
    const per = (us: number) => us / (requests.length * batchSize);
    return {
      "µs/event total": per(decode + handler + encode),
      "decode µs/event": per(decode),
      "handler µs/event": per(handler),
      "encode response µs/event": per(encode),
      "events/s (one core)": 1e6 / per(decode + handler + encode),
    };
  },
});

const appendStages = defineCase<Service & { bytes: Uint8Array[] }>({
  name: "inproc.breakdown.append-unary",
  method:
    "the unary Append path without a transport, stage by stage, mean µs per call: decode the AppendRequest (requestDecoderFor, as the gRPC port does), the handler (lifecycle validation against the cached run state, store.append, snapshots every 100), encode the AppendResponse; 64 started runs round robin",
  metric: "µs/call total",
  better: "lower",
  available,
  async setup() {
    const s = await service();
    const bytes: Uint8Array[] = [];
    for (let r = 0; r < 64; r++) {
      await s.impl.append(create(AppendRequestSchema, { event: workflowStarted(`bu-${r}`) }), s.context);
      bytes.push(encodeAppend(repeatableEvent(`bu-${r}`)));
    }
    return { ...s, bytes };
  },
  async run(s) {
    const decode = await meanMicros(300, (i) => requestDecoderFor(AppendRequestSchema)(s.bytes[i % 64]!));
    const requests = s.bytes.map((b) => requestDecoderFor(AppendRequestSchema)(b));
    let response: Awaited<ReturnType<Service["impl"]["append"]>> | undefined;
    const handler = await meanMicros(300, async (i) => {
      response = await s.impl.append(requests[i % 64]!, s.context);
    });
    const message = response!;
    const encode = await meanMicros(300, () => codecFor(AppendResponseSchema).encode(message));
    return {
      "µs/call total": decode + handler + encode,
      "decode µs": decode,
      "handler µs": handler,
      "encode µs": encode,
      "calls/s (one core)": 1e6 / (decode + handler + encode),
    };
  },
});

const subscribeEncode = defineCase<{ message: ReturnType<typeof create<typeof SubscribeResponseSchema>>; events: number; bytes: Uint8Array }>({
  name: "inproc.breakdown.subscribe-encode-512",
  method:
    "what catch-up pays per event to put stored events on the wire: toBinary of one SubscribeResponse carrying an EventBatch of 512 stored events (the service's batch size); against that, toBinary of each event then a copy into the batch (what batches.ts does when the shared encoding misses, i.e. for every catch-up event), the batch built from already-encoded bytes through unknown fields (encode-once, bytes cached), and a bare copy of pre-encoded bytes; µs per event",
  metric: "µs/event encode",
  better: "lower",
  async setup() {
    const events = workflowHistory("enc", 512);
    events.forEach((e, i) => (e.position = BigInt(i + 1)));
    const message = create(SubscribeResponseSchema, { message: { case: "events", value: create(EventBatchSchema, { events }) } });
    return { message, events: events.length, bytes: toBinary(SubscribeResponseSchema, message) };
  },
  async run(s) {
    const encode = await meanMicros(400, () => toBinary(SubscribeResponseSchema, s.message));
    const pre = (s.message.message.value as { events: Event[] }).events.map((e) => toBinary(EventSchema, e));
    const copy = await meanMicros(400, () => {
      let n = 0;
      for (const b of pre) n += b.length + 3;
      const out = new Uint8Array(n + 6);
      let o = 6;
      for (const b of pre) {
        out[o++] = 0x0a;
        out[o++] = (b.length & 0x7f) | 0x80;
        out[o++] = b.length >> 7;
        out.set(b, o);
        o += b.length;
      }
      return out;
    });
    // encode-once without touching the transports: each stored event's bytes (with
    // their length prefix) kept once and emitted as unknown fields no. 1 of an empty
    // EventBatch — toBinary writes them verbatim, every client reads them as `events`.
    const prefixed = pre.map((b) => {
      const w = new BinaryWriter();
      w.bytes(b);
      return w.finish();
    });
    const batch = create(EventBatchSchema);
    batch.$unknown = prefixed.map((data) => ({ no: 1, wireType: WireType.LengthDelimited, data }));
    const viaUnknown = create(SubscribeResponseSchema, { message: { case: "events", value: batch } });
    const unknownBytes = toBinary(SubscribeResponseSchema, viaUnknown);
    const back = fromBinary(SubscribeResponseSchema, unknownBytes);
    if (!equals(SubscribeResponseSchema, back, fromBinary(SubscribeResponseSchema, s.bytes))) throw new Error("$unknown encoding differs");
    const unknown = await meanMicros(400, () => toBinary(SubscribeResponseSchema, viaUnknown));
    // What src/service/subscription/batches.ts does on a cache miss (every catch-up event):
    // toBinary per event, then the bytes copied into the batch writer.
    const events = (s.message.message.value as { events: Event[] }).events;
    const perEvent = await meanMicros(400, () => {
      const w = new BinaryWriter();
      for (const e of events) w.tag(1, WireType.LengthDelimited).bytes(toBinary(EventSchema, e));
      return w.finish();
    });
    return {
      "µs/event encode": encode / s.events,
      "µs/event via $unknown (encode-once)": unknown / s.events,
      "µs/event toBinary per event + copy (cache miss)": perEvent / s.events,
      "µs/event copy pre-encoded": copy / s.events,
      "bytes/event": s.bytes.length / s.events,
    };
  },
});

/** protobuf-es's reflective functions against the compiled codec, on the messages of the hot paths. */
const codecCase = (
  path: "append-batch-decode" | "subscribe-encode" | "snapshot-encode" | "snapshot-decode",
  impl: "protobuf-es" | "compiled" | "lazy-values",
) =>
  defineCase<{ run: () => void; events: number }>({
    name: `inproc.codec.${path}.${impl}`,
    method: `${
      { compiled: "the compiled codec (src/codec)", "lazy-values": "the gRPC port's request decoder (requestDecoderFor: the compiled codec with google.protobuf.Value fields left encoded until read, src/codec/lazy-value.ts)", "protobuf-es": "protobuf-es fromBinary/toBinary" }[impl]
    }: ${
      {
        "append-batch-decode": "decode an AppendBatchRequest of 1,000 realistic events (what AppendBatch receives)",
        "subscribe-encode": "encode a SubscribeResponse of 512 stored events (a catch-up message)",
        "snapshot-encode": "encode the RunState of a 10,000-event run (a snapshot)",
        "snapshot-decode": "decode the RunState of a 10,000-event run (a snapshot)",
      }[path]
    }; µs per event (snapshots: per message)`,
    metric: "µs/op",
    better: "lower",
    interleave: `codec.${path}`,
    available,
    async setup() {
      const history = workflowHistory("codec-run", path === "subscribe-encode" ? 512 : 1000, { serverSequences: path !== "subscribe-encode" });
      if (path === "append-batch-decode") {
        const bytes = encodeAppendBatch(history);
        const decode =
          impl === "compiled"
            ? codecFor(AppendBatchRequestSchema).decode
            : impl === "lazy-values"
              ? requestDecoderFor(AppendBatchRequestSchema)
              : (b: Uint8Array) => fromBinary(AppendBatchRequestSchema, b);
        return { run: () => void decode(bytes), events: history.length };
      }
      if (path === "subscribe-encode") {
        history.forEach((e, i) => ((e.id = `0190a3c4-0000-7000-8000-${i.toString().padStart(12, "0")}`), (e.position = BigInt(i + 1)), (e.version = 1), (e.type = 5)));
        const message = create(SubscribeResponseSchema, { message: { case: "events", value: { events: history } } });
        const encode = impl === "compiled" ? codecFor(SubscribeResponseSchema).encode : (m: typeof message) => toBinary(SubscribeResponseSchema, m);
        return { run: () => void encode(message), events: history.length };
      }
      const { createReconstructor } = await loadReconstructor();
      const store = (await loadMemoryStore())();
      await store.append(workflowHistory("codec-run", 10_000, { serverSequences: true }).slice(0, 10_000));
      const { state } = await createReconstructor({ store, snapshotEvery: 0 }).getRunState("codec-run");
      const bytes = toBinary(RunStateSchema, state);
      if (path === "snapshot-encode") {
        const encode = impl === "compiled" ? codecFor(RunStateSchema).encode : (m: typeof state) => toBinary(RunStateSchema, m);
        return { run: () => void encode(state), events: 1 };
      }
      const decode = impl === "compiled" ? codecFor(RunStateSchema).decode : (b: Uint8Array) => fromBinary(RunStateSchema, b);
      return { run: () => void decode(bytes), events: 1 };
    },
    async run(s) {
      return { "µs/op": (await meanMicros(400, () => s.run())) / s.events };
    },
  });

const codecPaths = ["append-batch-decode", "subscribe-encode", "snapshot-encode", "snapshot-decode"] as const;

export const breakdown: CorpusGroup = {
  group: "in-process: stage breakdown of the server paths",
  cases: [
    appendBatchStages(),
    appendBatchStages(0),
    appendBatchStages(1000),
    appendStages,
    subscribeEncode,
    ...codecPaths.flatMap((p) => [codecCase(p, "protobuf-es"), codecCase(p, "compiled")]),
    codecCase("append-batch-decode", "lazy-values"),
  ] as BenchCase[],
  ratios: [
    ...codecPaths.map((p) => ({
      name: `${p}: protobuf-es / compiled codec, time (× faster)`,
      numerator: `inproc.codec.${p}.protobuf-es`,
      denominator: `inproc.codec.${p}.compiled`,
      metric: "µs/op",
      note: "bench/OPTIMISATIONS.md 10",
    })),
    {
      name: "append-batch-decode: compiled codec / with lazy Values (the gRPC port's), time (× faster)",
      numerator: "inproc.codec.append-batch-decode.compiled",
      denominator: "inproc.codec.append-batch-decode.lazy-values",
      metric: "µs/op",
      note: "bench/OPTIMISATIONS.md 26; the values are decoded later only if read",
    },
    { name: "AppendBatch handler: snapshots every 100 (default) / none", numerator: "inproc.breakdown.append-batch-1000", denominator: "inproc.breakdown.append-batch-1000.snapshot-every-0", metric: "handler µs/event", note: "what the default snapshot interval adds to the append path" },
    { name: "AppendBatch handler: snapshots every 100 (default) / every 1000", numerator: "inproc.breakdown.append-batch-1000", denominator: "inproc.breakdown.append-batch-1000.snapshot-every-1000", metric: "handler µs/event" },
  ],
};
