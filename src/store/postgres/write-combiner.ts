// Group commit for one store instance: appends decided at the same time are written
// by one append_events() call — one statement, one transaction, one commit (one WAL
// flush) for all of them — instead of one each.
//
// An append decides alone (append-transaction.ts) and hands its write here. While
// fewer than `maxInFlight` writes run, a write starts at once, so a lone append
// waits for nothing; writes that arrive meanwhile queue and go together when one
// finishes. A group never holds two appends that touch a common run (appended to or
// only expected), nor one that touches a run a running group writes: each member's
// checks and summaries are then exactly what they would be alone, and the group
// stands for the members in sequence. The transaction is all or nothing, so each
// member still is: stored whole, with its own contiguous positions, or not at all.
//
// If the group's statement fails with a race or a stale state (it rolled back for
// certain), each member is written again alone and gets its own answer. Any other
// failure (a lost connection: the commit's outcome is unknown) is every member's
// failure, as it would have been alone.
import type { PoolClient } from "pg";
import type { Queries } from "./queries.js";
import { errorCode, errorConstraint } from "./pg-errors.js";
import { toBigInt } from "./event-codec.js";
import { boolArray, byteaArray, int2Array, int4Array, int8Array, textArray, uuidArray } from "./binary-arrays.js";

/** append_events()'s arrays for one append. */
export interface AppendParams {
  readonly runIds: string[];
  readonly seen: bigint[];
  readonly checkRunIds: string[];
  readonly checkSeen: bigint[];
  readonly clientIds: string[];
  readonly eventRunIds: string[];
  readonly sequences: bigint[];
  readonly ids: string[];
  readonly types: number[];
  readonly stepNames: string[];
  readonly payloads: Uint8Array[];
  readonly lastSequences: bigint[];
  readonly workflowNames: string[];
  readonly workflowStarted: boolean[];
  readonly statuses: number[];
  readonly waitingSignals: number[];
  readonly firstSeconds: (bigint | null)[];
  readonly firstNanos: (number | null)[];
  readonly lastSeconds: (bigint | null)[];
  readonly lastNanos: (number | null)[];
}

export interface WriteCombinerOptions {
  readonly connect: () => Promise<PoolClient>;
  readonly queries: Queries;
  readonly gated: boolean;
  /** NOTIFY inside the transaction (channel, payload prefix), or none. */
  readonly notify?: { readonly channel: string; readonly prefix: string };
  /** Groups written at the same time. */
  readonly maxInFlight: number;
  /** A group takes members up to this many events (a bigger single append goes alone). */
  readonly maxGroupEvents: number;
  readonly maxGroupMembers: number;
}

export interface WriteCombiner {
  /** Writes one append; resolves to the position before its first event. */
  write(params: AppendParams): Promise<bigint>;
}

interface Member {
  readonly params: AppendParams;
  readonly runs: readonly string[];
  readonly resolve: (base: bigint) => void;
  readonly reject: (error: unknown) => void;
}

export function createWriteCombiner(options: WriteCombinerOptions): WriteCombiner {
  const queue: Member[] = [];
  /** Runs written by the groups in flight. */
  const busy = new Set<string>();
  let inFlight = 0;

  function pump(): void {
    while (inFlight < options.maxInFlight && queue.length > 0) {
      const group = take();
      if (group.length === 0) return;
      inFlight++;
      const runs = group.flatMap((m) => m.runs);
      for (const run of runs) busy.add(run);
      void run(group).finally(() => {
        for (const r of runs) busy.delete(r);
        inFlight--;
        pump();
      });
    }
  }

  /** The queue's oldest members that can go together now (in queue order). */
  function take(): Member[] {
    const group: Member[] = [];
    const runs = new Set<string>();
    let events = 0;
    for (let i = 0; i < queue.length && group.length < options.maxGroupMembers; i++) {
      const member = queue[i]!;
      const size = member.params.ids.length;
      if (group.length > 0 && events + size > options.maxGroupEvents) continue;
      if (member.runs.some((r) => busy.has(r) || runs.has(r))) continue;
      for (const r of member.runs) runs.add(r);
      events += size;
      group.push(member);
      queue.splice(i--, 1);
    }
    return group;
  }

  async function run(group: Member[]): Promise<void> {
    let base: bigint;
    try {
      base = await execute(group.length === 1 ? group[0]!.params : merge(group));
    } catch (error) {
      if (group.length > 1 && rolledBack(error)) {
        // Someone's state was stale or a race was lost: each member alone, for its own answer.
        await Promise.all(
          group.map((m) =>
            execute(m.params).then(m.resolve, m.reject),
          ),
        );
      } else {
        for (const m of group) m.reject(error);
      }
      return;
    }
    for (const m of group) {
      m.resolve(base);
      base += BigInt(m.params.ids.length);
    }
  }

  async function execute(p: AppendParams): Promise<bigint> {
    const client = await options.connect();
    let broken: Error | undefined;
    try {
      const written = await client.query<{ base: string }>({
        name: options.queries.appendEvents.name,
        text: options.queries.appendEvents.text,
        values: [
          options.gated,
          textArray(p.runIds),
          int8Array(p.seen),
          textArray(p.checkRunIds),
          int8Array(p.checkSeen),
          uuidArray(p.clientIds),
          textArray(p.eventRunIds),
          int8Array(p.sequences),
          uuidArray(p.ids),
          int2Array(p.types),
          textArray(p.stepNames),
          byteaArray(p.payloads),
          int8Array(p.lastSequences),
          textArray(p.workflowNames),
          boolArray(p.workflowStarted),
          int2Array(p.statuses),
          int4Array(p.waitingSignals),
          int8Array(p.firstSeconds),
          int4Array(p.firstNanos),
          int8Array(p.lastSeconds),
          int4Array(p.lastNanos),
          options.notify?.channel ?? null,
          options.notify?.prefix ?? null,
        ],
      });
      return toBigInt(written.rows[0]!.base);
    } catch (error) {
      // A broken connection is useless, and after an unexpected failure inside
      // append_events() the connection might still hold the position lock
      // (xid-gated mode): destroy it rather than return it to the pool.
      if (!rolledBack(error)) broken = error instanceof Error ? error : new Error(String(error));
      throw error;
    } finally {
      client.release(broken);
    }
  }

  return {
    write(params) {
      return new Promise<bigint>((resolve, reject) => {
        queue.push({ params, runs: [...params.runIds, ...params.checkRunIds], resolve, reject });
        pump();
      });
    },
  };
}

function merge(group: readonly Member[]): AppendParams {
  const out: { [K in keyof AppendParams]: unknown[] } = {
    runIds: [], seen: [], checkRunIds: [], checkSeen: [], clientIds: [], eventRunIds: [], sequences: [], ids: [],
    types: [], stepNames: [], payloads: [], lastSequences: [], workflowNames: [], workflowStarted: [], statuses: [],
    waitingSignals: [], firstSeconds: [], firstNanos: [], lastSeconds: [], lastNanos: [],
  };
  for (const m of group) {
    for (const key in out) {
      const target = out[key as keyof AppendParams];
      for (const value of m.params[key as keyof AppendParams]) target.push(value);
    }
  }
  return out as unknown as AppendParams;
}

/**
 * The statement failed in a way that rolled it back for certain and leaves the
 * connection usable: a stale state (RLC01, RLC02), a lost race (unique violation on
 * an event's ID or (run, sequence)), a deadlock or serialization failure.
 */
export function rolledBack(error: unknown): boolean {
  const code = errorCode(error);
  if (code === "RLC01" || code === "RLC02" || code === "40001" || code === "40P01") return true;
  if (code !== "23505") return false;
  const constraint = errorConstraint(error);
  return constraint === "events_id_key" || constraint === "events_run_sequence_key";
}
