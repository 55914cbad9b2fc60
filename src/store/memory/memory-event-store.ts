// In-memory EventStore: the embedded default (ARCHITECTURE §7).
//
// Layout, chosen for a low per-event overhead and O(1) lookups:
// - `log`: every stored event, indexed by position - 1 (positions are 1-based and gapless);
// - per run, `events` indexed by sequence - 1 (sequences are 1-based and gapless);
// - `byId`: event ID → stored event, for idempotent retries and ID conflicts
//   (id-index.ts: store-assigned IDs in a sorted array, client-given ones in a Map).
// The stored objects are the normalized copies made by prepareBatch; reads return
// them (in fresh arrays), so callers must treat returned events as immutable.
// Sub-messages of appended events (payload, output, timestamp, metadata) are not
// deep-copied either: after append() the store owns them and the caller must not
// mutate them (a gRPC request's decoded messages are never touched again anyway).
//
// Concurrency: Node runs one call at a time, and append() has no await between
// its checks and its mutation, so no interleaving of calls can break an invariant
// and no reader ever sees half a batch.
import type { Event } from "../../../gen/runlog/v1/event_pb.js";
import { UnavailableError } from "../../errors.js";
import { initialRunStatus, trackRunStatus, type RunStatusTrack } from "../../events/run-status.js";
import { validateRunId } from "../../events/validate.js";
import { defaultLimits, type Limits } from "../../limits.js";
import type {
  AppendedEvent,
  AppendListener,
  AppendOptions,
  AppendResult,
  EventStore,
  ListRunsOptions,
  ListRunsResult,
  LoadOptions,
  LoadResult,
  ReadLogOptions,
  ReadLogResult,
  RunSummary,
} from "../event-store.js";
import { checkExpectedSequence, numberRunEvents } from "../expected-sequence.js";
import { compileFilter, type EventPredicate } from "../filter.js";
import { resolveRetry } from "../idempotency.js";
import { decodeRunPageToken, encodeRunPageToken, nonNegative, pageLimit, runPageSize } from "../paging.js";
import { prepareBatch } from "../prepare.js";
import type { SnapshotStore } from "../snapshot-store.js";
import { createIdIndex } from "./id-index.js";
import { createMemorySnapshotStore } from "./memory-snapshot-store.js";

export interface MemoryEventStoreOptions {
  /** Input bounds; default defaultLimits. */
  readonly limits?: Limits;
  /** Where snapshots live; default a fresh createMemorySnapshotStore(). */
  readonly snapshots?: SnapshotStore;
  /**
   * Told when an onAppend listener throws. The append and the other listeners
   * go on regardless; by default the error is dropped.
   */
  readonly onListenerError?: (error: unknown) => void;
}

interface RunRecord {
  readonly runId: string;
  /** Indexed by sequence - 1. */
  readonly events: Event[];
  /** From the run's first workflow.started; "" before it. */
  workflowName: string;
  started: boolean;
  readonly status: RunStatusTrack;
}

export function createMemoryEventStore(options: MemoryEventStoreOptions = {}): EventStore {
  const limits = options.limits ?? defaultLimits;
  const onListenerError = options.onListenerError;
  const innerSnapshots = options.snapshots ?? createMemorySnapshotStore();

  const log: Event[] = [];
  const runs = new Map<string, RunRecord>();
  const byId = createIdIndex();
  /** Run IDs in creation order; sorted lazily (and cheaply: TimSort on a sorted prefix) by listRuns. */
  const runIds: string[] = [];
  let runIdsSorted = true;
  /** Replaced, never mutated, so that a notification walks a stable list. */
  let listeners: readonly AppendListener[] = [];
  let closed = false;

  const workflowOf = (runId: string): string => runs.get(runId)?.workflowName ?? "";

  function assertOpen(): void {
    if (closed) throw new UnavailableError("the event store is closed");
  }

  function lastSequenceOf(runId: string): bigint {
    const run = runs.get(runId);
    return run === undefined ? 0n : BigInt(run.events.length);
  }

  function appendNow(input: readonly Event[], appendOptions: AppendOptions | undefined): AppendResult {
    assertOpen();
    // 1. Validate and normalize (copies; nothing stored yet).
    const batch = prepareBatch(input, appendOptions, limits);
    const events = batch.events;

    // 2. Idempotent retry? Decided from the stored events.
    let anyKnownId = false;
    const found: (Event | undefined)[] = new Array(events.length);
    for (let i = 0; i < events.length; i++) {
      const stored = batch.clientIds[i] ? byId.get(events[i]!.id) : undefined;
      found[i] = stored;
      if (stored !== undefined) anyKnownId = true;
    }
    if (anyKnownId) {
      const original = resolveRetry(batch, found);
      if (original !== undefined) return { events: original, duplicate: true };
    }

    // 3. Expectations, then numbering: every check before any mutation.
    if (appendOptions?.expected !== undefined) {
      for (const [runId, expected] of appendOptions.expected) {
        checkExpectedSequence(runId, expected, lastSequenceOf(runId));
      }
    }
    if (batch.byRun.size === 1) {
      numberRunEvents(events[0]!.runId, lastSequenceOf(events[0]!.runId), events);
    } else {
      for (const [runId, indexes] of batch.byRun) {
        numberRunEvents(runId, lastSequenceOf(runId), indexes.map((i) => events[i]!));
      }
    }

    // 4. Commit. Nothing below throws.
    const appended: AppendedEvent[] = new Array(events.length);
    let run: RunRecord | undefined;
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      if (run === undefined || run.runId !== event.runId) run = runFor(event.runId);
      event.runId = run.runId; // one string per run, not one per decoded event
      log.push(event);
      event.position = BigInt(log.length);
      run.events.push(event);
      byId.add(event, !batch.clientIds[i]);
      if (!run.started && event.payload.case === "workflowStarted") {
        run.started = true;
        run.workflowName = event.payload.value.workflowName;
      }
      trackRunStatus(run.status, event);
      appended[i] = { id: event.id, runId: event.runId, sequence: event.sequence, position: event.position };
    }

    // 5. The change feed, synchronously, in position order.
    notify(events);
    return { events: appended, duplicate: false, stored: events };
  }

  function runFor(runId: string): RunRecord {
    let run = runs.get(runId);
    if (run === undefined) {
      run = { runId, events: [], workflowName: "", started: false, status: initialRunStatus() };
      runs.set(runId, run);
      if (runIdsSorted && runIds.length > 0 && runIds[runIds.length - 1]! > runId) runIdsSorted = false;
      runIds.push(runId);
    }
    return run;
  }

  function notify(events: readonly Event[]): void {
    const current = listeners;
    for (let i = 0; i < current.length; i++) {
      try {
        current[i]!(events);
      } catch (error) {
        try {
          onListenerError?.(error);
        } catch {
          // A failing error hook must not break the append either.
        }
      }
    }
  }

  function loadNow(runId: string, loadOptions: LoadOptions | undefined): LoadResult {
    assertOpen();
    validateRunId(runId, "run_id", limits);
    const after = nonNegative(loadOptions?.afterSequence ?? 0n, "after_sequence");
    const limit = pageLimit(loadOptions?.limit, limits);
    const filter = loadOptions?.filter;
    const predicate = filter && compileFilter({ types: filter.types, stepNames: filter.stepNames });
    const events = runs.get(runId)?.events ?? [];
    const start = Math.min(Number(after), events.length);
    const page = scan(events, start, events.length, limit, predicate);
    return {
      events: page.events,
      nextAfterSequence: page.lastExamined === undefined ? after : page.lastExamined.sequence,
      hasMore: page.hasMore,
    };
  }

  function readLogNow(readOptions: ReadLogOptions | undefined): ReadLogResult {
    assertOpen();
    const head = log.length;
    const after = nonNegative(readOptions?.afterPosition ?? 0n, "after_position");
    const to = nonNegative(readOptions?.toPosition ?? 0n, "to_position");
    const limit = pageLimit(readOptions?.limit, limits);
    const predicate = compileFilter(readOptions?.filter);
    const end = to === 0n ? head : Math.min(Number(to), head);
    const start = Math.min(Number(after), end);
    const page = scan(log, start, end, limit, predicate);
    return {
      events: page.events,
      nextAfterPosition: page.lastExamined === undefined ? after : page.lastExamined.position,
      hasMore: page.hasMore,
      headPosition: BigInt(head),
    };
  }

  /**
   * The matching events of source[start, end), at most `limit` of them.
   * lastExamined: the last event returned when the page is full, otherwise the
   * last event of the range (so a filtered reader skips what did not match).
   * hasMore: whether another matching event follows in the range.
   */
  function scan(
    source: readonly Event[],
    start: number,
    end: number,
    limit: number,
    predicate: EventPredicate | undefined,
  ): { events: Event[]; lastExamined: Event | undefined; hasMore: boolean } {
    if (start >= end) return { events: [], lastExamined: undefined, hasMore: false };
    if (predicate === undefined) {
      const stop = Math.min(end, start + limit);
      return { events: source.slice(start, stop), lastExamined: source[stop - 1], hasMore: stop < end };
    }
    const events: Event[] = [];
    let i = start;
    for (; i < end && events.length < limit; i++) {
      const event = source[i]!;
      if (predicate(event, workflowOf)) events.push(event);
    }
    if (events.length < limit) return { events, lastExamined: source[end - 1], hasMore: false };
    let hasMore = false;
    for (; i < end; i++) {
      if (predicate(source[i]!, workflowOf)) {
        hasMore = true;
        break;
      }
    }
    // A full page with nothing after it: the whole range was examined.
    return { events, lastExamined: hasMore ? events[events.length - 1] : source[end - 1], hasMore };
  }

  function listRunsNow(listOptions: ListRunsOptions | undefined): ListRunsResult {
    assertOpen();
    if (!runIdsSorted) {
      runIds.sort();
      runIdsSorted = true;
    }
    const prefix = listOptions?.runIdPrefix ?? "";
    const workflows = listOptions?.workflowNames?.length ? new Set(listOptions.workflowNames) : undefined;
    const statuses = listOptions?.statuses?.length ? new Set(listOptions.statuses) : undefined;
    const pageSize = runPageSize(listOptions?.pageSize, limits);
    const token = listOptions?.pageToken ?? "";
    // Run IDs are sorted: those with the prefix form one block starting at
    // lowerBound(prefix); a page starts after the token's run ID.
    let i = lowerBound(runIds, prefix);
    if (token !== "") i = Math.max(i, upperBound(runIds, decodeRunPageToken(token)));
    const summaries: RunSummary[] = [];
    let more = false;
    for (; i < runIds.length; i++) {
      const runId = runIds[i]!;
      if (!runId.startsWith(prefix)) break;
      const run = runs.get(runId)!;
      if (workflows !== undefined && !workflows.has(run.workflowName)) continue;
      if (statuses !== undefined && !statuses.has(run.status.status)) continue;
      if (summaries.length === pageSize) {
        more = true;
        break;
      }
      summaries.push(summarize(run));
    }
    const last = summaries[summaries.length - 1];
    return { runs: summaries, nextPageToken: more && last !== undefined ? encodeRunPageToken(last.runId) : "" };
  }

  const snapshots: SnapshotStore = {
    async latest(runId, atOrBefore, reducerVersion) {
      assertOpen();
      return innerSnapshots.latest(runId, atOrBefore, reducerVersion);
    },
    async save(snapshot) {
      assertOpen();
      return innerSnapshots.save(snapshot);
    },
  };

  return {
    async append(events, appendOptions) {
      return appendNow(events, appendOptions);
    },
    async load(runId, loadOptions) {
      return loadNow(runId, loadOptions);
    },
    async getLastSequence(runId) {
      assertOpen();
      validateRunId(runId, "run_id", limits);
      return lastSequenceOf(runId);
    },
    async readLog(readOptions) {
      return readLogNow(readOptions);
    },
    async headPosition() {
      assertOpen();
      return BigInt(log.length);
    },
    async listRuns(listOptions) {
      return listRunsNow(listOptions);
    },
    onAppend(listener) {
      assertOpen();
      listeners = [...listeners, listener];
      return () => {
        listeners = listeners.filter((l) => l !== listener);
      };
    },
    snapshots,
    async close() {
      closed = true;
      listeners = [];
    },
  };
}

function summarize(run: RunRecord): RunSummary {
  const events = run.events;
  const last = events[events.length - 1];
  return {
    runId: run.runId,
    workflowName: run.workflowName,
    status: run.status.status,
    lastSequence: BigInt(events.length),
    firstEventAt: events[0]?.timestamp,
    lastEventAt: last?.timestamp,
  };
}

/** First index whose value is >= key. */
function lowerBound(sorted: readonly string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index whose value is > key. */
function upperBound(sorted: readonly string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
