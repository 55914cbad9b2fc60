// Two `runlog serve` processes on one PostgreSQL database behave as one store
// (issue 4, "Must show"):
// - 8 writers racing across both servers on 20 runs: afterwards every run is
//   gapless, every acknowledged event is stored exactly once, and a subscriber on
//   each server saw the whole global log in position order with no gap;
// - SIGKILL a server during a write load: every acknowledged event is in the
//   database after the restart, and nothing half-written is;
// - the database unreachable while a server runs: UNAVAILABLE and /readyz 503, then
//   recovery without a restart, and a subscriber resumes with no gap.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import pg from "pg";
import { afterEach, expect, it } from "vitest";
import type { Event } from "../../gen/runlog/v1/event_pb.js";
import { AppendBatchRequestSchema } from "../../gen/runlog/v1/event_store_pb.js";
import type { EventStoreClient } from "../support/clients.js";
import { newId, stepStarted, workflowStarted } from "../support/events.js";
import { describePostgres, useTestDatabase } from "../support/postgres.js";
import { startServerProcess, type ServerProcess } from "../support/server-process.js";
import { subscribe, type TestSubscriber } from "../support/subscriber.js";
import { startTcpProxy } from "../support/tcp-proxy.js";

describePostgres("two runlog servers on one PostgreSQL database", () => {
  const db = useTestDatabase("cluster");
  const processes: ServerProcess[] = [];
  const subscribers: TestSubscriber[] = [];

  afterEach(async () => {
    await Promise.all(subscribers.splice(0).map((s) => s.cancel()));
    await Promise.all(processes.splice(0).map((p) => p.kill()));
  });

  async function serve(database: string): Promise<ServerProcess> {
    // Log level info: the "runlog serving" line carries the bound ports.
    const server = await startServerProcess(["--store", database, "--log-level", "info"]);
    processes.push(server);
    return server;
  }

  async function readWholeLog(client: EventStoreClient): Promise<Event[]> {
    const events: Event[] = [];
    let after = 0n;
    for (;;) {
      const page = await client.readLog({ afterPosition: after, limit: 1000 });
      events.push(...page.events);
      if (!page.hasMore) return events;
      after = page.nextAfterPosition;
    }
  }

  async function databaseRows(url: string) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ id: string; run_id: string; sequence: string; position: string; payload: Buffer }>(
        "SELECT id, run_id, sequence, position, payload FROM runlog.events ORDER BY position",
      );
      return rows;
    } finally {
      await client.end();
    }
  }

  it("8 writers racing across both servers on 20 runs: gapless runs, every acknowledged event once, both subscribers see the whole log in order", async () => {
    const url = db.url;
    const a = await serve(url);
    const b = await serve(url);
    const servers = [a, b];
    const onA = subscribe(a.client, {});
    const onB = subscribe(b.client, {});
    subscribers.push(onA, onB);

    const runIds = Array.from({ length: 20 }, (_, i) => `cluster-run-${i}`);
    for (const runId of runIds) await a.client.append({ event: workflowStarted(runId, { workflowName: "cluster" }) });

    const acked = new Map<string, { runId: string; sequence: bigint; position: bigint }>();
    let conflicts = 0;
    const writers = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; i < 40; i++) {
        const server = servers[(w + i + (w >> 2)) % 2]!;
        // Writers w and w + 4 aim at the same run at the same step, through different servers.
        const runId = runIds[(i * 3 + (w % 4) * 5) % runIds.length]!;
        const { lastSequence } = await server.client.getLastSequence({ runId });
        try {
          if (i % 4 === 3) {
            // A batch of two, atomic, with an expectation.
            const events = [1n, 2n].map((k) =>
              stepStarted(runId, {}, { id: newId(), sequence: lastSequence + k, stepName: `w${w}-${i}-${k}` }),
            );
            const response = await server.client.appendBatch(
              create(AppendBatchRequestSchema, { events, expected: [{ runId, lastSequence }] }),
            );
            for (const e of response.events) acked.set(e.id, { runId: e.runId, sequence: e.sequence, position: e.position });
          } else {
            const event = stepStarted(runId, {}, { id: newId(), sequence: lastSequence + 1n, stepName: `w${w}-${i}` });
            const response = await server.client.append({ event });
            const e = response.event!;
            acked.set(e.id, { runId: e.runId, sequence: e.sequence, position: e.position });
          }
        } catch (error) {
          if (error instanceof ConnectError && error.code === Code.Aborted) {
            conflicts++;
            continue;
          }
          throw error;
        }
      }
    });
    await Promise.all(writers);
    expect(acked.size).toBeGreaterThan(0);
    expect(conflicts).toBeGreaterThan(0); // they did race

    // Every run gapless; every acknowledged event stored once, where it was acknowledged.
    const log = await readWholeLog(b.client);
    const ids = log.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    const byId = new Map(log.map((e) => [e.id, e]));
    for (const [id, where] of acked) {
      const stored = byId.get(id);
      expect(stored, id).toBeDefined();
      expect({ runId: stored!.runId, sequence: stored!.sequence, position: stored!.position }).toEqual(where);
    }
    // Nothing but the seeds and the acknowledged events (every failure was a clean ABORTED).
    expect(log.length).toBe(runIds.length + acked.size);
    for (const runId of runIds) {
      const sequences = log.filter((e) => e.runId === runId).map((e) => e.sequence);
      expect(sequences).toEqual(sequences.map((_, k) => BigInt(k + 1)));
    }
    const positions = log.map((e) => e.position);
    for (let k = 1; k < positions.length; k++) expect(positions[k]).toBeGreaterThan(positions[k - 1]!);
    // The database agrees with what the servers answer.
    expect((await databaseRows(url)).map((r) => BigInt(r.position))).toEqual(positions);

    // Each server's subscriber saw the whole global log, in position order, no gap, no repeat.
    for (const subscriber of [onA, onB]) {
      await subscriber.until((r) => r.events.length >= log.length, 30_000);
      expect(subscriber.events.map((e) => e.position)).toEqual(positions);
      expect(subscriber.events.map((e) => e.id)).toEqual(ids);
    }
  });

  it("SIGKILL a server during a write load: acknowledged events survive, batches are all or nothing", async () => {
    const url = db.url;
    // The CLI always uses schema "runlog": start from an empty one.
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query("DROP SCHEMA IF EXISTS runlog CASCADE");
    await client.end();

    const victim = await serve(url);
    const witness = await serve(url);
    const onWitness = subscribe(witness.client, {});
    subscribers.push(onWitness);

    const acked: { id: string; position: bigint }[] = [];
    const failures: unknown[] = [];
    let stop = false;
    const writers = Array.from({ length: 6 }, async (_, w) => {
      const runId = `crash-run-${w}`;
      for (let batch = 0; !stop; batch++) {
        const tag = `${w}-${batch}`;
        const events = [0, 1, 2].map((k) =>
          batch === 0 && k === 0
            ? workflowStarted(runId, { workflowName: "crash" }, { id: newId(), metadata: { batch: tag } })
            : stepStarted(runId, {}, { id: newId(), stepName: `s${k}`, metadata: { batch: tag } }),
        );
        try {
          const response = await victim.client.appendBatch({ events });
          for (const e of response.events) acked.push({ id: e.id, position: e.position });
        } catch (error) {
          failures.push(error);
          return; // the server is gone: this writer stops (its last batch's outcome is unknown)
        }
      }
    });
    await new Promise((r) => setTimeout(r, 1500));
    await victim.kill();
    stop = true;
    await Promise.all(writers);
    expect(acked.length).toBeGreaterThan(0);
    expect(failures.length).toBeGreaterThan(0);

    // Restart on the same database: everything acknowledged is there, nothing half-written.
    const restarted = await serve(url);
    const log = await readWholeLog(restarted.client);
    const byId = new Map(log.map((e) => [e.id, e]));
    for (const { id, position } of acked) expect(byId.get(id)?.position, id).toBe(position);
    const perBatch = new Map<string, number>();
    for (const e of log) perBatch.set(e.metadata.batch!, (perBatch.get(e.metadata.batch!) ?? 0) + 1);
    for (const [tag, count] of perBatch) expect(count, `batch ${tag}`).toBe(3);
    for (let w = 0; w < 6; w++) {
      const sequences = log.filter((e) => e.runId === `crash-run-${w}`).map((e) => e.sequence);
      expect(sequences).toEqual(sequences.map((_, k) => BigInt(k + 1)));
    }
    // The restarted server serves, and the server that stayed up saw the whole log in order.
    await restarted.client.appendBatch({ events: [stepStarted("crash-run-0", {}, { stepName: "after" })] });
    const final = await readWholeLog(witness.client);
    await onWitness.until((r) => r.events.length >= final.length, 30_000);
    expect(onWitness.events.map((e) => e.position)).toEqual(final.map((e) => e.position));
  });

  it("the database unreachable while serving: UNAVAILABLE and /readyz 503, then recovery without a restart; a subscriber resumes with no gap", async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    await client.query("DROP SCHEMA IF EXISTS runlog CASCADE");
    await client.end();
    const proxy = await startTcpProxy("127.0.0.1", Number(new URL(db.url).port || 5432));
    try {
      const viaProxy = new URL(db.url);
      viaProxy.host = `127.0.0.1:${proxy.port}`;
      const server = await serve(viaProxy.toString());
      const readyz = async () => (await fetch(`http://127.0.0.1:${server.httpPort}/readyz`)).status;
      expect(await readyz()).toBe(200);
      const runId = "outage-run";
      await server.client.append({ event: workflowStarted(runId, { workflowName: "outage" }) });
      const first = subscribe(server.client, {});
      subscribers.push(first);
      await first.until((r) => r.events.length === 1);

      proxy.down();
      const failed = await server.client.append({ event: stepStarted(runId) }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failed).toBeInstanceOf(ConnectError);
      expect((failed as ConnectError).code).toBe(Code.Unavailable);
      expect(await readyz()).toBe(503);

      await proxy.up();
      // Ready again without a restart.
      const deadline = Date.now() + 20_000;
      while ((await readyz()) !== 200) {
        expect(Date.now()).toBeLessThan(deadline);
        await new Promise((r) => setTimeout(r, 100));
      }
      for (let i = 0; i < 3; i++) await server.client.append({ event: stepStarted(runId, {}, { stepName: `after-${i}` }) });
      const log = await readWholeLog(server.client);
      // The subscription either rode out the outage or ended with UNAVAILABLE; a client
      // resuming after the last position it got then has everything, in order, once.
      let seen = first.events.map((e) => e.position);
      if (first.error !== undefined || first.ended) {
        expect((first.error as ConnectError).code).toBe(Code.Unavailable);
        const resumed = subscribe(server.client, { start: { case: "after", value: seen[seen.length - 1]! } });
        subscribers.push(resumed);
        await resumed.until((r) => seen.length + r.events.length >= log.length);
        seen = [...seen, ...resumed.events.map((e) => e.position)];
      } else {
        await first.until((r) => r.events.length >= log.length);
        seen = first.events.map((e) => e.position);
      }
      expect(seen).toEqual(log.map((e) => e.position));
    } finally {
      await proxy.close();
    }
  });
});
