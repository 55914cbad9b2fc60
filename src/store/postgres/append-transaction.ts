// One append attempt, in two statements (two round trips), optimistic:
//   1. Read the batch's runs (and the runs it has expectations for) and the stored
//      events with the batch's client IDs. No transaction, no lock.
//   2. Decide everything with the shared rules, as every store does: idempotent
//      retry (resolveRetry), expectations (checkExpectedSequence), numbering
//      (numberRunEvents), run summaries (trackRunStatus). A duplicate or a conflict
//      ends here, having written nothing (and, in xid-gated mode, without using up
//      positions).
//   3. One statement, its own transaction: append_events() (migrations.ts) locks the
//      runs, checks that none moved since step 1, assigns positions, inserts every
//      event and updates every run summary (unnest() arrays). If a run moved, or a
//      concurrent writer stored one of the IDs first, the attempt fails with a race
//      (RaceError) and the caller starts over from step 1, where the rules decide
//      again against the new state: the loser of a race gets exactly the answer it
//      would have got had it come second.
import type { PoolClient } from "pg";
import type { Event } from "../../../gen/runlog/v1/event_pb.js";
import { RunStatus } from "../../../gen/runlog/v1/run_state_pb.js";
import { trackRunStatus, type RunStatusTrack } from "../../events/run-status.js";
import type { AppendedEvent, AppendResult } from "../event-store.js";
import { checkExpectedSequence, numberRunEvents } from "../expected-sequence.js";
import { resolveRetry } from "../idempotency.js";
import type { PreparedBatch } from "../prepare.js";
import { decodeEvent, encodeEvent, toBigInt } from "./event-codec.js";
import type { PositionMode } from "./options.js";
import { errorCode, errorConstraint } from "./pg-errors.js";
import type { Queries } from "./queries.js";

export interface AppendOutcome {
  readonly result: AppendResult;
  /** The last position written (0n for a duplicate). */
  readonly lastPosition: bigint;
}

/** NOTIFY inside the append's transaction: channel and payload prefix. */
export interface InTransactionNotify {
  readonly channel: string;
  readonly prefix: string;
}

/** A concurrent writer got there first; start over from the read. */
export class RaceError extends Error {
  constructor(cause: unknown) {
    super("a concurrent append changed the run first", { cause });
  }
}

interface ReadRow {
  kind: "r" | "e";
  run_id: string;
  sequence: string;
  workflow_name: string | null;
  workflow_started: boolean | null;
  status: number | null;
  waiting_signals: number | null;
  position: string | null;
  payload: Buffer | null;
}

interface RunRow {
  readonly lastSequence: bigint;
  readonly workflowName: string;
  readonly workflowStarted: boolean;
  readonly status: RunStatus;
  readonly waitingSignals: number;
}

/**
 * One attempt. `batch` events get their sequences assigned (the caller restores them
 * before another attempt). Throws the rules' RunlogErrors, RaceError, or driver errors.
 */
export async function appendAttempt(
  client: PoolClient,
  queries: Queries,
  mode: PositionMode,
  batch: PreparedBatch,
  expected: ReadonlyMap<string, bigint> | undefined,
  notify: InTransactionNotify | undefined,
): Promise<AppendOutcome> {
  const events = batch.events;
  const checkRunIds = expected === undefined ? [] : [...expected.keys()].filter((runId) => !batch.byRun.has(runId));
  const clientIds: string[] = [];
  for (let i = 0; i < events.length; i++) if (batch.clientIds[i]) clientIds.push(events[i]!.id);

  // 1. Read.
  const read = await client.query<ReadRow>(queries.readForAppend, [[...batch.byRun.keys(), ...checkRunIds], clientIds]);
  const runs = new Map<string, RunRow>();
  const stored = new Map<string, Event>();
  for (const row of read.rows) {
    if (row.kind === "r") {
      runs.set(row.run_id, {
        lastSequence: toBigInt(row.sequence),
        workflowName: row.workflow_name!,
        workflowStarted: row.workflow_started!,
        status: row.status! as RunStatus,
        waitingSignals: row.waiting_signals!,
      });
    } else {
      const event = decodeEvent(row.payload!, toBigInt(row.position));
      stored.set(event.id, event);
    }
  }

  // 2. Decide: retry, expectations, numbering, summaries.
  if (stored.size > 0) {
    const found = events.map((e, i) => (batch.clientIds[i] ? stored.get(e.id) : undefined));
    const original = resolveRetry(batch, found);
    if (original !== undefined) return { result: { events: original, duplicate: true }, lastPosition: 0n };
  }
  const lastOf = (runId: string) => runs.get(runId)?.lastSequence ?? 0n;
  if (expected !== undefined) {
    for (const [runId, last] of expected) checkExpectedSequence(runId, last, lastOf(runId));
  }
  const r = {
    runIds: [] as string[],
    seen: [] as bigint[],
    lastSequences: [] as bigint[],
    workflowNames: [] as string[],
    workflowStarted: [] as boolean[],
    statuses: [] as number[],
    waitingSignals: [] as number[],
    firstSeconds: [] as (bigint | null)[],
    firstNanos: [] as (number | null)[],
    lastSeconds: [] as (bigint | null)[],
    lastNanos: [] as (number | null)[],
  };
  for (const [runId, indexes] of batch.byRun) {
    const runEvents = indexes.map((i) => events[i]!);
    const row = runs.get(runId);
    const seen = row?.lastSequence ?? 0n;
    const newLast = numberRunEvents(runId, seen, runEvents);
    let workflowName = row?.workflowName ?? "";
    let workflowStarted = row?.workflowStarted ?? false;
    const track: RunStatusTrack = { status: row?.status ?? RunStatus.UNSPECIFIED, waitingSignals: row?.waitingSignals ?? 0 };
    for (const event of runEvents) {
      if (!workflowStarted && event.payload.case === "workflowStarted") {
        workflowStarted = true;
        workflowName = event.payload.value.workflowName;
      }
      trackRunStatus(track, event);
    }
    const first = runEvents[0]!.timestamp;
    const last = runEvents[runEvents.length - 1]!.timestamp;
    r.runIds.push(runId);
    r.seen.push(seen);
    r.lastSequences.push(newLast);
    r.workflowNames.push(workflowName);
    r.workflowStarted.push(workflowStarted);
    r.statuses.push(track.status);
    r.waitingSignals.push(track.waitingSignals);
    r.firstSeconds.push(first?.seconds ?? null);
    r.firstNanos.push(first?.nanos ?? null);
    r.lastSeconds.push(last?.seconds ?? null);
    r.lastNanos.push(last?.nanos ?? null);
  }

  // 3. Write: one statement, one transaction.
  const n = events.length;
  const runIds: string[] = new Array(n);
  const sequences: bigint[] = new Array(n);
  const ids: string[] = new Array(n);
  const types: number[] = new Array(n);
  const stepNames: string[] = new Array(n);
  const payloads: Uint8Array[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const event = events[i]!;
    runIds[i] = event.runId;
    sequences[i] = event.sequence;
    ids[i] = event.id;
    types[i] = event.type;
    stepNames[i] = event.stepName;
    payloads[i] = encodeEvent(event);
  }
  let base: bigint;
  try {
    const written = await client.query<{ base: string }>(queries.appendEvents, [
      mode === "xid-gated",
      r.runIds,
      r.seen,
      checkRunIds,
      checkRunIds.map(lastOf),
      runIds,
      sequences,
      ids,
      types,
      stepNames,
      payloads,
      r.lastSequences,
      r.workflowNames,
      r.workflowStarted,
      r.statuses,
      r.waitingSignals,
      r.firstSeconds,
      r.firstNanos,
      r.lastSeconds,
      r.lastNanos,
      notify?.channel ?? null,
      notify?.prefix ?? null,
    ]);
    base = toBigInt(written.rows[0]!.base);
  } catch (error) {
    if (isRace(error)) throw new RaceError(error);
    throw error;
  }
  const appended: AppendedEvent[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const event = events[i]!;
    appended[i] = { id: event.id, runId: event.runId, sequence: event.sequence, position: base + 1n + BigInt(i) };
  }
  return { result: { events: appended, duplicate: false }, lastPosition: base + BigInt(n) };
}

/**
 * A concurrent writer won: a run moved since it was read (RLC01), one of the IDs or
 * (run, sequence) pairs was stored first (unique violation), or PostgreSQL broke a
 * deadlock / serialization conflict.
 */
function isRace(error: unknown): boolean {
  const code = errorCode(error);
  if (code === "RLC01" || code === "40001" || code === "40P01") return true;
  if (code !== "23505") return false;
  const constraint = errorConstraint(error);
  return constraint === "events_id_key" || constraint === "events_run_sequence_key";
}
