// PostgreSQL: the bare INSERT ceiling, runlog's PostgreSQL store and
// emmett-postgresql doing the same work on the same database, in one run.
// All three are driven in-process from the benchmark process (node-postgres
// pools of 10 to 16 connections; the database server shares the 2 cores).
import { getPostgreSQLEventStore, type PostgresEventStore } from "@event-driven-io/emmett-postgresql";
import { toBinary } from "@bufbuild/protobuf";
import type pg from "pg";
import { EventSchema, type Event } from "../../gen/runlog/v1/event_pb.js";
import type { EventStore } from "../../src/store/event-store.js";
import { defineCase, type BenchCase, type CorpusGroup, type RatioSpec } from "../lib/bench-case.js";
import { toEmmettEvent } from "../lib/emmett-events.js";
import { indexedEventId } from "../lib/wire.js";
import { repeatableEvent, workflowHistory, workflowStarted } from "../lib/history.js";
import { closedLoop } from "../lib/load.js";
import { pgAvailable, pgPool, pgUrl } from "../lib/pg.js";
import { loadPostgresStore, missing, postgresStoreFile } from "../lib/runlog-inproc.js";
import { durationMs } from "../lib/sizes.js";

const runlogSchema = "runlog_bench";
const sample = repeatableEvent("pg-run-0000");
const payload = toBinary(EventSchema, sample);
const emmettEvent = toEmmettEvent(sample);

const pgOnly = () => pgAvailable();
const runlogAvailable = async () => (await pgAvailable()) ?? missing(postgresStoreFile);

let uniq = Date.now() % 1_000_000;
const tag = () => (uniq++).toString(36);

// ---- ceiling -----------------------------------------------------------------

const ceilingDdl = `
  DROP TABLE IF EXISTS bench_ceiling;
  CREATE TABLE bench_ceiling (
    position bigserial PRIMARY KEY,
    run_id text NOT NULL,
    sequence bigint NOT NULL,
    id uuid NOT NULL UNIQUE,
    payload bytea NOT NULL,
    UNIQUE (run_id, sequence)
  )`;

interface Ceiling {
  readonly pool: pg.Pool;
}

async function ceilingSetup(): Promise<Ceiling> {
  const pool = pgPool(16);
  await pool.query(ceilingDdl);
  return { pool };
}

function ceilingSingle(lanes: number): BenchCase {
  return defineCase<Ceiling>({
    name: `ceiling.pg.insert.single.c${lanes}`,
    method: `bare single-row INSERT (autocommit) of one ${payload.length}-byte event row into a table with the constraints an event store needs (bigserial PK, UNIQUE(run_id, sequence), UNIQUE(id)); ${lanes} lane(s) on distinct runs, pg.Pool of 16, closed loop 2.5 s`,
    metric: "rows/s",
    better: "higher",
    interleave: `pg.append.c${lanes}`,
    available: pgOnly,
    setup: ceilingSetup,
    async run({ pool }, ctx) {
      const t = tag();
      const seq = new Array<number>(lanes).fill(0);
      const r = await closedLoop(lanes, durationMs(ctx), async (lane) => {
        const s = ++seq[lane]!;
        await pool.query("INSERT INTO bench_ceiling (run_id, sequence, id, payload) VALUES ($1, $2, $3, $4)", [
          `c-${t}-${lane}`,
          s,
          indexedEventId(s, lane + 1 + ctx.rep * 100 + (uniq % 1000) * 10_000),
          payload,
        ]);
      });
      return { "rows/s": r.perSecond, "p50 ms": r.latency.percentile(0.5), "p99 ms": r.latency.percentile(0.99) };
    },
    teardown: ({ pool }) => pool.end(),
  });
}

function ceilingBatch(size: number): BenchCase {
  return defineCase<Ceiling>({
    name: `ceiling.pg.insert.batch.b${size}`,
    method: `bare batched INSERT … SELECT FROM unnest($1::text[], $2::bigint[], $3::uuid[], $4::bytea[]) of ${size} event rows of one run per statement (autocommit), same table; 4 lanes, closed loop 2.5 s`,
    metric: "rows/s",
    better: "higher",
    interleave: `pg.batch.b${size}`,
    available: pgOnly,
    setup: ceilingSetup,
    async run({ pool }, ctx) {
      const t = tag();
      const next = new Array<number>(4).fill(0);
      const payloads = new Array<Uint8Array>(size).fill(payload);
      const r = await closedLoop(4, durationMs(ctx), async (lane) => {
        const runs = new Array<string>(size).fill(`b-${t}-${lane}`);
        const seqs: number[] = [];
        const ids: string[] = [];
        for (let i = 0; i < size; i++) {
          const s = ++next[lane]!;
          seqs.push(s);
          ids.push(indexedEventId(s, lane + 1 + ctx.rep * 100 + (uniq % 1000) * 10_000));
        }
        await pool.query(
          "INSERT INTO bench_ceiling (run_id, sequence, id, payload) SELECT * FROM unnest($1::text[], $2::bigint[], $3::uuid[], $4::bytea[])",
          [runs, seqs, ids, payloads],
        );
        return size;
      });
      return { "rows/s": r.perSecond, "batch p50 ms": r.latency.percentile(0.5) };
    },
    teardown: ({ pool }) => pool.end(),
  });
}

// ---- runlog's PostgreSQL store ---------------------------------------------------

interface RunlogPg {
  readonly store: EventStore;
}

type Positions = "serialized" | "xid-gated";

async function runlogSetup(positions: Positions = "serialized"): Promise<RunlogPg> {
  const schema = positions === "serialized" ? runlogSchema : `${runlogSchema}_xid`;
  const pool = pgPool(1);
  await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await pool.end();
  const createPostgresEventStore = await loadPostgresStore();
  const store = await createPostgresEventStore({ connectionString: pgUrl, schema, positions });
  return { store };
}

const positionsLabel = (p: Positions) => (p === "serialized" ? "pg" : "pg-xid-gated");

function runlogSingle(lanes: number, positions: Positions = "serialized"): BenchCase {
  return defineCase<RunlogPg>({
    name: `runlog.${positionsLabel(positions)}.append.single.c${lanes}`,
    method: `runlog's PostgreSQL store in-process: store.append([event], {expected: last sequence}) of one context.updated event (${payload.length} bytes encoded), ${lanes} lane(s) on distinct runs (started first), closed loop 2.5 s; pool 10, ${positions} positions${positions === "xid-gated" ? " (the store's default)" : ""}`,
    metric: "appends/s",
    better: "higher",
    interleave: `pg.append.c${lanes}`,
    available: runlogAvailable,
    setup: () => runlogSetup(positions),
    async run({ store }, ctx) {
      const t = tag();
      const runs = Array.from({ length: lanes }, (_, l) => `rl-${t}-${l}`);
      const last = new Array<bigint>(lanes).fill(0n);
      for (let l = 0; l < lanes; l++) last[l] = (await store.append([workflowStarted(runs[l]!)])).events[0]!.sequence;
      const events = runs.map((r) => repeatableEvent(r));
      const r = await closedLoop(lanes, durationMs(ctx), async (lane) => {
        const res = await store.append([events[lane]!], { expected: new Map([[runs[lane]!, last[lane]!]]) });
        last[lane] = res.events[0]!.sequence;
      });
      return { "appends/s": r.perSecond, "p50 ms": r.latency.percentile(0.5), "p99 ms": r.latency.percentile(0.99) };
    },
    teardown: ({ store }) => store.close(),
  });
}

function runlogBatch(size: number, positions: Positions = "serialized"): BenchCase {
  return defineCase<RunlogPg>({
    name: `runlog.${positionsLabel(positions)}.append.batch.b${size}`,
    method: `runlog's PostgreSQL store: store.append(batch of ${size} realistic events of one run, expected last sequence), 4 lanes on distinct runs, closed loop 2.5 s; ${positions} positions`,
    metric: "events/s",
    better: "higher",
    interleave: `pg.batch.b${size}`,
    available: runlogAvailable,
    setup: () => runlogSetup(positions),
    async run({ store }, ctx) {
      const t = tag();
      const lanes = 4;
      const runs = Array.from({ length: lanes }, (_, l) => `rb-${t}-${l}`);
      const last = new Array<bigint>(lanes).fill(0n);
      for (let l = 0; l < lanes; l++) last[l] = (await store.append([workflowStarted(runs[l]!)])).events[0]!.sequence;
      const bodies = runs.map((r) => workflowHistory(r, size + 1, { serverSequences: true }).slice(1));
      const r = await closedLoop(lanes, durationMs(ctx), async (lane) => {
        const res = await store.append(bodies[lane]!, { expected: new Map([[runs[lane]!, last[lane]!]]) });
        last[lane] = res.events[res.events.length - 1]!.sequence;
        return size;
      });
      return { "events/s": r.perSecond, "batch p50 ms": r.latency.percentile(0.5) };
    },
    teardown: ({ store }) => store.close(),
  });
}

const readRunLength = 1000;

const runlogRead = defineCase<RunlogPg & { runs: string[] }>({
  name: "runlog.pg.load-1k",
  method: "runlog's PostgreSQL store: store.load(runId) of a 1,000-event run (realistic events, one page), 10 such runs round robin, 4 concurrent readers, closed loop 2.5 s",
  metric: "events/s",
  better: "higher",
  interleave: "pg.read-1k",
  available: runlogAvailable,
  async setup() {
    const s = await runlogSetup();
    const runs: string[] = [];
    for (let r = 0; r < 10; r++) {
      runs.push(`read-${r}`);
      await s.store.append(workflowHistory(`read-${r}`, readRunLength));
    }
    return { ...s, runs };
  },
  async run({ store, runs }, ctx) {
    const r = await closedLoop(4, durationMs(ctx), async (_lane, i) => {
      const page = await store.load(runs[i % runs.length]!);
      if (page.events.length !== readRunLength) throw new Error(`load returned ${page.events.length} events`);
      return readRunLength;
    });
    return { "events/s": r.perSecond, "ms/load p50": r.latency.percentile(0.5) };
  },
  teardown: ({ store }) => store.close(),
});

const runlogReadLog = defineCase<RunlogPg & { total: number }>({
  name: "runlog.pg.read-log.page-1000",
  method: "runlog's PostgreSQL store: store.readLog({afterPosition, limit: 1000}) paging from the start to the head of a 50,000-event log (10,000 quick)",
  metric: "events/s",
  better: "higher",
  available: runlogAvailable,
  async setup(ctx) {
    const s = await runlogSetup();
    const runs = ctx.quick ? 10 : 50;
    for (let r = 0; r < runs; r++) await s.store.append(workflowHistory(`log-${r}`, 1000));
    return { ...s, total: runs * 1000 };
  },
  async run({ store, total }) {
    let after = 0n;
    let events = 0;
    const t0 = performance.now();
    for (;;) {
      const page = await store.readLog({ afterPosition: after, limit: 1000 });
      events += page.events.length;
      after = page.nextAfterPosition;
      if (!page.hasMore) break;
    }
    const ms = performance.now() - t0;
    if (events !== total) throw new Error(`read ${events} of ${total} events`);
    return { "events/s": (events * 1000) / ms };
  },
  teardown: ({ store }) => store.close(),
});

// ---- emmett-postgresql ------------------------------------------------------------

interface EmmettPg {
  readonly store: PostgresEventStore;
}

async function emmettSetup(): Promise<EmmettPg> {
  const pool = pgPool(1);
  try {
    // emmett (dumbo) records its migrations in dmb_migrations: when its tables were
    // dropped behind its back, forget them so that migrate() creates them again.
    const { rows } = await pool.query<{ t: string | null }>("SELECT to_regclass('public.emt_messages')::text AS t");
    if (rows[0]?.t == null) await pool.query("DROP TABLE IF EXISTS dmb_migrations");
    const store = getPostgreSQLEventStore(pgUrl, { schema: { autoMigration: "CreateOrUpdate" } });
    await store.schema.migrate();
    // Empty rather than drop: emmett remembers per process that it migrated.
    await pool.query("TRUNCATE emt_messages, emt_streams");
    return { store };
  } finally {
    await pool.end();
  }
}

type EmmettAny = Parameters<PostgresEventStore["appendToStream"]>[1][number];

function emmettSingle(lanes: number): BenchCase {
  return defineCase<EmmettPg>({
    name: `peer.emmett-pg.append.single.c${lanes}`,
    method: `emmett-postgresql getPostgreSQLEventStore(): appendToStream(stream, [event], {expectedStreamVersion}) of the same event as JSON ({type, data}), ${lanes} lane(s) on distinct streams, closed loop 2.5 s; its default pool`,
    metric: "appends/s",
    better: "higher",
    interleave: `pg.append.c${lanes}`,
    available: pgOnly,
    setup: emmettSetup,
    async run({ store }, ctx) {
      const t = tag();
      const version = new Array<bigint>(lanes).fill(0n);
      const streams = Array.from({ length: lanes }, (_, l) => `em-${t}-${l}`);
      const r = await closedLoop(lanes, durationMs(ctx), async (lane) => {
        const res = await store.appendToStream(streams[lane]!, [emmettEvent as EmmettAny], { expectedStreamVersion: version[lane]! });
        version[lane] = res.nextExpectedStreamVersion;
      });
      return { "appends/s": r.perSecond, "p50 ms": r.latency.percentile(0.5), "p99 ms": r.latency.percentile(0.99) };
    },
    teardown: ({ store }) => store.close(),
  });
}

function emmettBatch(size: number): BenchCase {
  return defineCase<EmmettPg>({
    name: `peer.emmett-pg.append.batch.b${size}`,
    method: `emmett-postgresql appendToStream(stream, ${size} events as JSON, {expectedStreamVersion}), 4 lanes on distinct streams, closed loop 2.5 s`,
    metric: "events/s",
    better: "higher",
    interleave: `pg.batch.b${size}`,
    available: pgOnly,
    setup: emmettSetup,
    async run({ store }, ctx) {
      const t = tag();
      const streams = Array.from({ length: 4 }, (_, l) => `eb-${t}-${l}`);
      const version = new Array<bigint>(4).fill(0n);
      const bodies = streams.map((s) => workflowHistory(s, size, { serverSequences: true }).map((e) => toEmmettEvent(e) as EmmettAny));
      const r = await closedLoop(4, durationMs(ctx), async (lane) => {
        const res = await store.appendToStream(streams[lane]!, bodies[lane]!, { expectedStreamVersion: version[lane]! });
        version[lane] = res.nextExpectedStreamVersion;
        return size;
      });
      return { "events/s": r.perSecond, "batch p50 ms": r.latency.percentile(0.5) };
    },
    teardown: ({ store }) => store.close(),
  });
}

const emmettRead = defineCase<EmmettPg & { streams: string[] }>({
  name: "peer.emmett-pg.read-1k",
  method: "emmett-postgresql readStream(stream) of a 1,000-event stream (the same events as JSON), 10 streams round robin, 4 concurrent readers, closed loop 2.5 s",
  metric: "events/s",
  better: "higher",
  interleave: "pg.read-1k",
  available: pgOnly,
  async setup() {
    const s = await emmettSetup();
    const streams: string[] = [];
    for (let r = 0; r < 10; r++) {
      streams.push(`read-${r}`);
      const events: Event[] = workflowHistory(`read-${r}`, readRunLength);
      await s.store.appendToStream(`read-${r}`, events.map((e) => toEmmettEvent(e) as EmmettAny));
    }
    return { ...s, streams };
  },
  async run({ store, streams }, ctx) {
    const r = await closedLoop(4, durationMs(ctx), async (_lane, i) => {
      const res = await store.readStream(streams[i % streams.length]!);
      if (res.events.length !== readRunLength) throw new Error(`readStream returned ${res.events.length} events`);
      return readRunLength;
    });
    return { "events/s": r.perSecond, "ms/read p50": r.latency.percentile(0.5) };
  },
  teardown: ({ store }) => store.close(),
});

// ---- snapshot-interval sweep on PostgreSQL (docs/adr/0004) --------------------------------

export const pgSweepIntervals = [25, 50, 100, 250, 1000] as const;

function pgSweep(interval: number): BenchCase {
  return defineCase<RunlogPg & { reconstructor: import("../../src/reconstruct/reconstructor.js").Reconstructor }>({
    name: `runlog.pg.snapshot-interval.n${interval}`,
    method: `runlog's PostgreSQL store with snapshots every ${interval}: each repetition appends a fresh 10,000-event run in batches of ${interval} through the reconstructor as the server does (store.append, then afterAppend: fold into the cached state, encode and save the snapshot due), then calls getRunState(runId, asOf) with asOf uniform over 1..10,000 for 1 s (mean µs per call: decode the latest snapshot ≤ asOf, load and fold the tail from PostgreSQL)`,
    metric: "get-run-state µs (mean)",
    better: "lower",
    reps: 3,
    available: async () => (await runlogAvailable()) ?? missing("src/reconstruct/create-reconstructor.ts"),
    async setup() {
      const s = await runlogSetup();
      const { createReconstructor } = await import("../../src/reconstruct/create-reconstructor.js");
      return { ...s, reconstructor: createReconstructor({ store: s.store, snapshotEvery: interval, snapshotBytesPerEvent: 0 }) };
    },
    async run({ store, reconstructor }) {
      const runId = `sweep-${interval}-${tag()}`;
      const events = workflowHistory(runId, 10_000);
      let appendMs = 0;
      let snapshotMs = 0;
      for (let i = 0; i < events.length; i += interval) {
        const slice = events.slice(i, i + interval);
        const t0 = performance.now();
        const result = await store.append(slice);
        const t1 = performance.now();
        await reconstructor.afterAppend(slice.map((e, j) => ({ ...e, id: result.events[j]!.id, position: result.events[j]!.position })));
        appendMs += t1 - t0;
        snapshotMs += performance.now() - t1;
      }
      let calls = 0;
      let replayed = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < 1000) {
        const asOf = BigInt(((calls * 2654435761) % 10_000) + 1);
        replayed += (await reconstructor.getRunState(runId, asOf)).replayedEvents;
        calls++;
      }
      const readUs = ((performance.now() - t0) * 1000) / calls;
      return {
        "get-run-state µs (mean)": readUs,
        "replayed events (mean)": replayed / calls,
        "snapshot write µs/event": (snapshotMs * 1000) / events.length,
        "append µs/event": (appendMs * 1000) / events.length,
      };
    },
    teardown: ({ store }) => store.close(),
  });
}

const target15: RatioSpec["target"] = { op: ">=", value: 1.5, source: "issue 5: runlog's PostgreSQL store ≥ 1.5× emmett-postgresql on appends and reads" };

export const postgres: CorpusGroup = {
  group: "PostgreSQL: ceiling, runlog, emmett-postgresql",
  cases: [
    ceilingSingle(1),
    runlogSingle(1),
    runlogSingle(1, "xid-gated"),
    emmettSingle(1),
    ceilingSingle(16),
    runlogSingle(16),
    runlogSingle(16, "xid-gated"),
    emmettSingle(16),
    ceilingBatch(100),
    runlogBatch(100),
    runlogBatch(100, "xid-gated"),
    emmettBatch(100),
    ceilingBatch(1000),
    runlogBatch(1000),
    emmettBatch(1000),
    runlogRead,
    emmettRead,
    runlogReadLog,
    ...pgSweepIntervals.map(pgSweep),
  ],
  ratios: [
    { name: "pg append c1: runlog / emmett-pg", numerator: "runlog.pg.append.single.c1", denominator: "peer.emmett-pg.append.single.c1", target: target15 },
    { name: "pg append c16: runlog / emmett-pg", numerator: "runlog.pg.append.single.c16", denominator: "peer.emmett-pg.append.single.c16", target: target15 },
    { name: "pg batch 100: runlog / emmett-pg", numerator: "runlog.pg.append.batch.b100", denominator: "peer.emmett-pg.append.batch.b100", target: target15 },
    { name: "pg batch 1000: runlog / emmett-pg", numerator: "runlog.pg.append.batch.b1000", denominator: "peer.emmett-pg.append.batch.b1000", target: target15 },
    { name: "pg read 1k: runlog load / emmett-pg readStream", numerator: "runlog.pg.load-1k", denominator: "peer.emmett-pg.read-1k", target: target15 },
    { name: "pg append c16: xid-gated / serialized positions", numerator: "runlog.pg-xid-gated.append.single.c16", denominator: "runlog.pg.append.single.c16", note: "adr/0005: the cost of serialized position assignment under concurrency" },
    { name: "pg append c1: runlog xid-gated (the store's default) / emmett-pg", numerator: "runlog.pg-xid-gated.append.single.c1", denominator: "peer.emmett-pg.append.single.c1", target: target15 },
    { name: "pg append c16: runlog xid-gated (the store's default) / emmett-pg", numerator: "runlog.pg-xid-gated.append.single.c16", denominator: "peer.emmett-pg.append.single.c16", target: target15 },
    { name: "pg append c1: runlog / bare INSERT ceiling", numerator: "runlog.pg.append.single.c1", denominator: "ceiling.pg.insert.single.c1" },
    { name: "pg append c16: runlog / bare INSERT ceiling", numerator: "runlog.pg.append.single.c16", denominator: "ceiling.pg.insert.single.c16" },
    { name: "pg batch 100: runlog / unnest INSERT ceiling", numerator: "runlog.pg.append.batch.b100", denominator: "ceiling.pg.insert.batch.b100" },
    { name: "pg batch 1000: runlog / unnest INSERT ceiling", numerator: "runlog.pg.append.batch.b1000", denominator: "ceiling.pg.insert.batch.b1000" },
  ],
};
