// Peer: NATS JetStream (same machine) used as an event store, like for like
// with runlog over gRPC: per-run subject, expected-last-subject-sequence for
// optimistic concurrency, the same encoded Event as payload.
import { toBinary } from "@bufbuild/protobuf";
import { EventSchema } from "../../gen/runlog/v1/event_pb.js";
import { defineCase, type BenchCase, type CorpusGroup } from "../lib/bench-case.js";
import { repeatableEvent, workflowHistory } from "../lib/history.js";
import { closedLoop } from "../lib/load.js";
import {
  isWrongLastSequence,
  lastSubjectSequence,
  natsAvailable,
  natsFixture,
  preloadNats,
  readOrdered,
  type NatsFixture,
  type NatsStorage,
} from "../lib/nats.js";
import { catchUpEvents, durationMs, hotRunWarmUpMs, pick } from "../lib/sizes.js";

const payload = toBinary(EventSchema, repeatableEvent("run-000000"));
const available = () => natsAvailable();

function syncAppend(storage: NatsStorage, lanes: number): BenchCase {
  return defineCase<NatsFixture>({
    name: `peer.nats.${storage}.append.sync.c${lanes}`,
    method: `js.publish() awaiting each PubAck, ${lanes} lane(s) each on its own subject (run) with Nats-Expected-Last-Subject-Sequence = the previous ack's sequence; ${payload.length}-byte payload (an encoded runlog Event); ${storage} storage; closed loop for 2.5 s`,
    metric: "appends/s",
    better: "higher",
    interleave: `append.unary.c${lanes}`,
    available,
    setup: () => natsFixture(storage, `sync_${storage}_${lanes}`),
    async run(f, ctx) {
      const last = new Array<number>(lanes).fill(0);
      const subject = (lane: number) => `${f.prefix}.r${ctx.rep}-${lane}`;
      const r = await closedLoop(lanes, durationMs(ctx), async (lane) => {
        const ack = await f.js.publish(subject(lane), payload, { expect: { lastSubjectSequence: last[lane]! } });
        last[lane] = ack.seq;
      });
      return { "appends/s": r.perSecond, "p50 ms": r.latency.percentile(0.5), "p99 ms": r.latency.percentile(0.99) };
    },
    teardown: (f) => f.close(),
  });
}

function hotRun(storage: NatsStorage, lanes: number): BenchCase {
  return defineCase<NatsFixture>({
    name: `peer.nats.${storage}.append.hot-run.c${lanes}`,
    method: `${lanes} lanes append to ONE subject, each with the expected last subject sequence it believes; on "wrong last sequence" the lane reads the subject's last sequence (direct get) and retries. appends/s counts successes; closed loop 2.5 s after a ${hotRunWarmUpMs / 1000} s warm-up on another subject`,
    metric: "appends/s",
    better: "higher",
    interleave: `append.hot.c${lanes}`,
    available,
    async setup() {
      const f = await natsFixture(storage, `hot_${storage}_${lanes}`);
      await hotRunLoop(f, `${f.prefix}.hot-warm-up`, lanes, hotRunWarmUpMs);
      return f;
    },
    async run(f, ctx) {
      const { r, conflicts } = await hotRunLoop(f, `${f.prefix}.hot-${ctx.rep}`, lanes, durationMs(ctx));
      return { "appends/s": r.perSecond, "conflicts/s": conflicts / r.seconds, "conflict share": conflicts / (conflicts + r.ops) };
    },
    teardown: (f) => f.close(),
  });
}

/** `lanes` publishers on one subject for `ms`, each re-reading the last sequence on a conflict. */
async function hotRunLoop(f: NatsFixture, subject: string, lanes: number, ms: number) {
  const belief = new Array<number>(lanes).fill(0);
  let conflicts = 0;
  const r = await closedLoop(lanes, ms, async (lane) => {
    try {
      const ack = await f.js.publish(subject, payload, { expect: { lastSubjectSequence: belief[lane]! } });
      belief[lane] = ack.seq;
      return 1;
    } catch (error) {
      if (!isWrongLastSequence(error)) throw error;
      conflicts++;
      belief[lane] = await lastSubjectSequence(f, subject);
      return 0;
    }
  });
  return { r, conflicts };
}

function asyncBatch(storage: NatsStorage, batch: number): BenchCase {
  return defineCase<NatsFixture>({
    name: `peer.nats.${storage}.append.async.b${batch}`,
    method: `batches of ${batch} async js.publish() to one run's subject, all acks awaited before the next batch; only the first message carries Nats-Expected-Last-Subject-Sequence (JetStream 2.9 has no atomic multi-message publish: weaker than runlog's atomic AppendBatch); 4 lanes on distinct runs`,
    metric: "events/s",
    better: "higher",
    interleave: `append.batch.b${batch}`,
    available,
    setup: () => natsFixture(storage, `async_${storage}_${batch}`),
    async run(f, ctx) {
      const lanes = 4;
      const last = new Array<number>(lanes).fill(0);
      const r = await closedLoop(lanes, durationMs(ctx), async (lane) => {
        const subject = `${f.prefix}.b${ctx.rep}-${lane}`;
        const acks = new Array<Promise<{ seq: number }>>(batch);
        acks[0] = f.js.publish(subject, payload, { expect: { lastSubjectSequence: last[lane]! } });
        for (let i = 1; i < batch; i++) acks[i] = f.js.publish(subject, payload);
        const done = await Promise.all(acks);
        last[lane] = done[batch - 1]!.seq;
        return batch;
      });
      return { "events/s": r.perSecond, "batch p50 ms": r.latency.percentile(0.5) };
    },
    teardown: (f) => f.close(),
  });
}

interface Preloaded {
  readonly f: NatsFixture;
  readonly count: number;
}

function catchUp(storage: NatsStorage): BenchCase {
  return defineCase<Preloaded>({
    name: `peer.nats.${storage}.catch-up`,
    method: `ordered consumer (pull, max_messages 10,000) over a stream preloaded with 1,000,000 messages (100,000 quick) on 1,000 subjects, from the first message until the last arrives; consumer creation included`,
    metric: "events/s",
    better: "higher",
    reps: 3,
    interleave: "catch-up",
    available,
    async setup(ctx) {
      const f = await natsFixture(storage, `catchup_${storage}`);
      const count = catchUpEvents(ctx);
      await preloadNats(f, count, (i) => `${f.prefix}.run-${i % 1000}`, payload);
      return { f, count };
    },
    async run({ f, count }) {
      const ms = await readOrdered(f, count);
      return { "events/s": (count * 1000) / ms, "MB/s": (count * payload.length) / 1000 / ms };
    },
    teardown: ({ f }) => f.close(),
  });
}

function loadRun(storage: NatsStorage): BenchCase {
  return defineCase<Preloaded>({
    name: `peer.nats.${storage}.load-10k`,
    method: `read one subject of 10,000 messages (a 10,000-event run, realistic workflow events) through an ordered consumer filtered to it, in a stream that also holds 9 other such runs; consumer creation included`,
    metric: "events/s",
    better: "higher",
    interleave: "load-10k",
    available,
    async setup(ctx) {
      const f = await natsFixture(storage, `load_${storage}`);
      const count = pick(ctx, 10_000, 10_000);
      for (let r = 0; r < 10; r++) {
        const events = workflowHistory(`run-${r}`, count).map((e) => toBinary(EventSchema, e));
        let inFlight: Promise<unknown>[] = [];
        for (const bytes of events) {
          inFlight.push(f.js.publish(`${f.prefix}.run-${r}`, bytes));
          if (inFlight.length >= 1000) (await Promise.all(inFlight), (inFlight = []));
        }
        await Promise.all(inFlight);
      }
      return { f, count };
    },
    async run({ f, count }, ctx) {
      let total = 0;
      const loads = pick(ctx, 10, 3);
      for (let i = 0; i < loads; i++) total += await readOrdered(f, count, `${f.prefix}.run-${i % 10}`);
      return { "events/s": (count * loads * 1000) / total, "ms per load": total / loads };
    },
    teardown: ({ f }) => f.close(),
  });
}

export const peersNats: CorpusGroup = {
  group: "peers: NATS JetStream",
  cases: [
    ...[1, 16, 64].map((c) => syncAppend("memory", c)),
    ...[1, 16, 64].map((c) => syncAppend("file", c)),
    hotRun("memory", 16),
    ...[100, 1000].map((b) => asyncBatch("memory", b)),
    ...[100, 1000].map((b) => asyncBatch("file", b)),
    catchUp("memory"),
    catchUp("file"),
    loadRun("memory"),
  ],
};
