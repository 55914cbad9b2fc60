// The cost of the two ways the PostgreSQL store assigns global positions
// (docs/adr/0005-postgres-global-positions.md): "serialized" (a counter row locked
// to commit) and "xid-gated" (xid + positions allocated together, readers gated on
// pg_snapshot_xmin), each with NOTIFY after commit (the default) and inside the
// transaction.
//
//   npx tsx bench/postgres-positions.ts                       all cases, 3 rounds, 4 s each
//   npx tsx bench/postgres-positions.ts --filter xid --seconds 2 --rounds 1 --writers 16
//
// Each case: a fresh schema; `writers` concurrent writers (default 16), each appending
// to its own run (no sequence conflicts: this measures position assignment, not run
// contention), closed loop, through one store instance (pool = writers). A second
// store instance (as another server would) subscribes with onAppend and records the
// append→delivery latency across instances. Cases are interleaved round by round;
// the table shows each case's median round. PostgreSQL: RUNLOG_BENCH_PG (default
// postgres://postgres@127.0.0.1:5432), database runlog_bench (created when missing).
import { parseArgs } from "node:util";
import os from "node:os";
import pg from "pg";
import type { Event } from "../gen/runlog/v1/event_pb.js";
import { createPostgresEventStore, type PositionMode } from "../src/store/postgres/postgres-event-store.js";
import { stepStarted } from "../test/support/events.js";

const { values } = parseArgs({
  options: {
    filter: { type: "string", short: "f" },
    seconds: { type: "string", default: "4" },
    rounds: { type: "string", default: "3" },
    writers: { type: "string", default: "16" },
  },
});
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const writers = Number(values.writers);

const server = (process.env.RUNLOG_BENCH_PG ?? "postgres://postgres@127.0.0.1:5432").replace(/\/+$/, "");
const database = process.env.RUNLOG_BENCH_PG_DB ?? "runlog_bench";
const url = `${server}/${database}`;

interface Case {
  readonly name: string;
  readonly positions: PositionMode;
  readonly batch: number;
  readonly notifyInTransaction: boolean;
}

const cases: Case[] = [];
for (const batch of [1, 10]) {
  for (const positions of ["serialized", "xid-gated"] as const) {
    for (const notifyInTransaction of [false, true]) {
      const notify = notifyInTransaction ? "notify-in-tx" : "notify-after";
      cases.push({ name: `${positions}.batch${batch}.${notify}`, positions, batch, notifyInTransaction });
    }
  }
}
const filter = values.filter === undefined ? undefined : new RegExp(values.filter);
const selected = cases.filter((c) => filter === undefined || filter.test(c.name));

interface Result {
  appendsPerSecond: number;
  eventsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  deliveryP50Ms: number;
  deliveryP99Ms: number;
}

async function ensureDatabase(): Promise<void> {
  const admin = new pg.Client({ connectionString: `${server}/postgres` });
  await admin.connect();
  try {
    const exists = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
  } finally {
    await admin.end();
  }
}

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
  } finally {
    await client.end();
  }
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function runCase(c: Case, round: number): Promise<Result> {
  const schema = `bench_positions_${c.name.replace(/[^a-z0-9]/g, "_")}_${round}_${process.pid}`;
  const common = { connectionString: url, schema, positions: c.positions, notifyInTransaction: c.notifyInTransaction };
  const writer = await createPostgresEventStore({ ...common, poolSize: writers });
  const reader = await createPostgresEventStore({ ...common, poolSize: 2 });
  try {
    const ackedAt = new Map<bigint, number>();
    const deliveries: number[] = [];
    reader.onAppend((events: readonly Event[]) => {
      const now = performance.now();
      for (const e of events) {
        const t = ackedAt.get(e.position);
        if (t !== undefined) {
          deliveries.push(now - t);
          ackedAt.delete(e.position);
        }
      }
    });
    const latencies: number[] = [];
    let appends = 0;
    const runTag = `${round}-${Date.now().toString(36)}`;
    const warmupEnd = performance.now() + 500;
    const deadline = warmupEnd + seconds * 1000;
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        const runId = `bench-${runTag}-${w}`;
        while (performance.now() < deadline) {
          const events = Array.from({ length: c.batch }, (_, i) => stepStarted(runId, { attempt: 1 }, { stepName: `s${i}` }));
          const t0 = performance.now();
          const result = await writer.append(events);
          const t1 = performance.now();
          if (t0 >= warmupEnd) {
            latencies.push(t1 - t0);
            appends++;
            ackedAt.set(result.events[result.events.length - 1]!.position, t1);
          }
        }
      }),
    );
    // Let the other instance catch up before measuring the next case.
    const settle = performance.now() + 2000;
    while (ackedAt.size > 0 && performance.now() < settle) await new Promise((r) => setTimeout(r, 10));
    latencies.sort((a, b) => a - b);
    deliveries.sort((a, b) => a - b);
    return {
      appendsPerSecond: appends / seconds,
      eventsPerSecond: (appends * c.batch) / seconds,
      p50Ms: quantile(latencies, 0.5),
      p99Ms: quantile(latencies, 0.99),
      deliveryP50Ms: quantile(deliveries, 0.5),
      deliveryP99Ms: quantile(deliveries, 0.99),
    };
  } finally {
    await reader.close();
    await writer.close();
    await dropSchema(schema);
  }
}

await ensureDatabase();
const settings = new pg.Client({ connectionString: url });
await settings.connect();
const version = (await settings.query("SELECT version()")).rows[0].version as string;
const sync = (await settings.query("SHOW synchronous_commit")).rows[0].synchronous_commit as string;
const fsync = (await settings.query("SHOW fsync")).rows[0].fsync as string;
await settings.end();
console.error(
  `postgres-positions: ${selected.length} cases × ${rounds} rounds × ${seconds} s, ${writers} writers; ` +
    `${os.cpus().length} cores; ${version.split(" on ")[0]}; fsync=${fsync} synchronous_commit=${sync}`,
);

const results = new Map<string, Result[]>();
for (let round = 0; round < rounds; round++) {
  for (const c of selected) {
    const r = await runCase(c, round);
    (results.get(c.name) ?? results.set(c.name, []).get(c.name)!).push(r);
    console.error(`  round ${round + 1} ${c.name}: ${r.appendsPerSecond.toFixed(0)} appends/s`);
  }
}

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : "-");
const header =
  "| case | appends/s (median round) | rounds min–max | events/s | append p50 ms | append p99 ms | other-instance delivery p50 ms | p99 ms |";
console.log(header);
console.log("|---|---:|---:|---:|---:|---:|---:|---:|");
for (const c of selected) {
  const rs = [...results.get(c.name)!].sort((a, b) => a.appendsPerSecond - b.appendsPerSecond);
  const m = rs[Math.floor(rs.length / 2)]!;
  console.log(
    `| ${c.name} | ${fmt(m.appendsPerSecond)} | ${fmt(rs[0]!.appendsPerSecond)}–${fmt(rs[rs.length - 1]!.appendsPerSecond)} | ${fmt(m.eventsPerSecond)} | ${fmt(m.p50Ms, 2)} | ${fmt(m.p99Ms, 2)} | ${fmt(m.deliveryP50Ms, 2)} | ${fmt(m.deliveryP99Ms, 2)} |`,
  );
}
