// One append attempt, optimistic, in one statement (one round trip) when this
// instance knows the batch's runs, two otherwise:
//   1. The runs' state: from the run cache (what this instance wrote last, or read
//      last) when it has every run of the batch; otherwise read the batch's runs (and
//      the runs it has expectations for) and the stored events with the batch's
//      client IDs. No transaction, no lock.
//   2. Decide everything with the shared rules, as every store does: idempotent
//      retry (resolveRetry), expectations (checkExpectedSequence), numbering
//      (numberRunEvents), run summaries (trackRunStatus). A duplicate or a conflict
//      ends here, having written nothing. Decided from the cache, a rule failure is
//      not trusted (the cache may be behind): read and decide again.
//   3. One statement, its own transaction: append_events() (migrations.ts, migration
//      3) first checks, without locking or allocating, that no run moved since the
//      state of step 1 and that no client-given ID is stored (RLC01 / RLC02: the state
//      was stale; read and decide again, no position used up); then locks the runs,
//      checks again under the locks, assigns positions, inserts every event and
//      updates every run summary (unnest() arrays). If a run moved meanwhile, or a
//      concurrent writer stored one of the IDs first, the attempt fails with a race
//      (RaceError) and the caller starts over from step 1, where the rules decide
//      again against the new state: the loser of a race gets exactly the answer it
//      would have got had it come second.
import type { Event } from "../../../gen/runlog/v1/event_pb.js";
import { RunStatus } from "../../../gen/runlog/v1/run_state_pb.js";
import { trackRunStatus, type RunStatusTrack } from "../../events/run-status.js";
import { RunlogError } from "../../errors.js";
import type { AppendedEvent, AppendResult } from "../event-store.js";
import { checkExpectedSequence, numberRunEvents } from "../expected-sequence.js";
import { resolveRetry } from "../idempotency.js";
import type { PreparedBatch } from "../prepare.js";
import { decodeEvent, encodeEvents, toBigInt } from "./event-codec.js";
import { errorCode, errorConstraint } from "./pg-errors.js";
import type { AppendParams } from "./write-combiner.js";
import type { RunCache, RunRow } from "./run-cache.js";

export interface AppendOutcome {
  readonly result: AppendResult;
  /** The last position written (0n for a duplicate). */
  readonly lastPosition: bigint;
}

/** How an attempt reaches the database. */
export interface AppendIo {
  /** The read of step 1: $1 run IDs, $2 client IDs (queries.readForAppend). */
  read(runIds: string[], clientIds: string[]): Promise<readonly ReadRow[]>;
  /** append_events() (through the write combiner); resolves to the position before the first event. */
  write(params: AppendParams): Promise<bigint>;
}

/** A concurrent writer got there first; start over from the read. */
export class RaceError extends Error {
  constructor(cause: unknown) {
    super("a concurrent append changed the run first", { cause });
  }
}

export interface ReadRow {
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

/**
 * One attempt. `batch` events get their sequences assigned (the caller restores them
 * before another attempt). Throws the rules' RunlogErrors, RaceError, or driver errors.
 * `cache` (when given) is read for the runs' state and updated with what was read and
 * written; pass none to always read.
 */
export async function appendAttempt(
  io: AppendIo,
  batch: PreparedBatch,
  expected: ReadonlyMap<string, bigint> | undefined,
  cache: RunCache | undefined,
): Promise<AppendOutcome> {
  const events = batch.events;
  const checkRunIds = expected === undefined ? [] : [...expected.keys()].filter((runId) => !batch.byRun.has(runId));
  const clientIds: string[] = [];
  for (let i = 0; i < events.length; i++) if (batch.clientIds[i]) clientIds.push(events[i]!.id);

  const cached = cache === undefined ? undefined : cachedRuns(cache, batch, checkRunIds);
  if (cached !== undefined) {
    const given = events.map((e) => e.sequence);
    try {
      return await decideAndWrite(io, batch, expected, cache, checkRunIds, clientIds, cached, undefined);
    } catch (error) {
      // Decided from a state that may be behind (another server appended since): a rule
      // failure or a stale state (RLC01/RLC02, raised before anything was written or
      // allocated) is answered after reading the runs.
      if (!(error instanceof RunlogError) && !isStale(error) && !isRace(error)) throw error;
      forget(cache!, batch, checkRunIds);
      events.forEach((e, i) => (e.sequence = given[i]!));
    }
  }

  // 1. Read.
  const rows = await io.read([...batch.byRun.keys(), ...checkRunIds], clientIds);
  const runs = new Map<string, RunRow>();
  const stored = new Map<string, Event>();
  for (const row of rows) {
    if (row.kind === "r") {
      const run: RunRow = {
        lastSequence: toBigInt(row.sequence),
        workflowName: row.workflow_name!,
        workflowStarted: row.workflow_started!,
        status: row.status! as RunStatus,
        waitingSignals: row.waiting_signals!,
      };
      runs.set(row.run_id, run);
      cache?.set(row.run_id, run);
    } else {
      const event = decodeEvent(row.payload!, toBigInt(row.position));
      stored.set(event.id, event);
    }
  }
  try {
    return await decideAndWrite(io, batch, expected, cache, checkRunIds, clientIds, runs, stored);
  } catch (error) {
    if (isRace(error) || isStale(error)) {
      if (cache !== undefined) forget(cache, batch, checkRunIds);
      throw new RaceError(error);
    }
    throw error;
  }
}

function forget(cache: RunCache, batch: PreparedBatch, checkRunIds: readonly string[]): void {
  for (const runId of batch.byRun.keys()) cache.delete(runId);
  for (const runId of checkRunIds) cache.delete(runId);
}

/** Every run of the batch (and of its expectations) from the cache, or undefined. */
function cachedRuns(cache: RunCache, batch: PreparedBatch, checkRunIds: readonly string[]): Map<string, RunRow> | undefined {
  const runs = new Map<string, RunRow>();
  for (const runId of batch.byRun.keys()) {
    const run = cache.get(runId);
    if (run === undefined) return undefined;
    runs.set(runId, run);
  }
  for (const runId of checkRunIds) {
    const run = cache.get(runId);
    if (run === undefined) return undefined;
    runs.set(runId, run);
  }
  return runs;
}

/**
 * Steps 2 and 3. `stored`: the stored events with the batch's client IDs, when they
 * were read (undefined when deciding from the cache: append_events() then refuses to
 * write if one is stored, RLC02).
 */
async function decideAndWrite(
  io: AppendIo,
  batch: PreparedBatch,
  expected: ReadonlyMap<string, bigint> | undefined,
  cache: RunCache | undefined,
  checkRunIds: string[],
  clientIds: string[],
  runs: ReadonlyMap<string, RunRow>,
  stored: ReadonlyMap<string, Event> | undefined,
): Promise<AppendOutcome> {
  const events = batch.events;
  // 2. Decide: retry, expectations, numbering, summaries.
  if (stored !== undefined && stored.size > 0) {
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
  for (let i = 0; i < n; i++) {
    const event = events[i]!;
    runIds[i] = event.runId;
    sequences[i] = event.sequence;
    ids[i] = event.id;
    types[i] = event.type;
    stepNames[i] = event.stepName;
  }
  const payloads = encodeEvents(events);
  const base = await io.write({
    runIds: r.runIds,
    seen: r.seen,
    checkRunIds,
    checkSeen: checkRunIds.map(lastOf),
    clientIds,
    eventRunIds: runIds,
    sequences,
    ids,
    types,
    stepNames,
    payloads,
    lastSequences: r.lastSequences,
    workflowNames: r.workflowNames,
    workflowStarted: r.workflowStarted,
    statuses: r.statuses,
    waitingSignals: r.waitingSignals,
    firstSeconds: r.firstSeconds,
    firstNanos: r.firstNanos,
    lastSeconds: r.lastSeconds,
    lastNanos: r.lastNanos,
  });
  if (cache !== undefined) {
    for (let i = 0; i < r.runIds.length; i++) {
      cache.set(r.runIds[i]!, {
        lastSequence: r.lastSequences[i]!,
        workflowName: r.workflowNames[i]!,
        workflowStarted: r.workflowStarted[i]!,
        status: r.statuses[i]! as RunStatus,
        waitingSignals: r.waitingSignals[i]!,
      });
    }
  }
  const appended: AppendedEvent[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const event = events[i]!;
    event.position = base + 1n + BigInt(i);
    appended[i] = { id: event.id, runId: event.runId, sequence: event.sequence, position: event.position };
  }
  return { result: { events: appended, duplicate: false, stored: events }, lastPosition: base + BigInt(n) };
}

/** append_events() found the state the writer decided from stale, before writing anything. */
function isStale(error: unknown): boolean {
  const code = errorCode(error);
  return code === "RLC01" || code === "RLC02";
}

/**
 * A concurrent writer won: a run moved since it was read (RLC01), one of the IDs or
 * (run, sequence) pairs was stored first (unique violation), or PostgreSQL broke a
 * deadlock / serialization conflict.
 */
function isRace(error: unknown): boolean {
  const code = errorCode(error);
  if (code === "40001" || code === "40P01") return true;
  if (code !== "23505") return false;
  const constraint = errorConstraint(error);
  return constraint === "events_id_key" || constraint === "events_run_sequence_key";
}
