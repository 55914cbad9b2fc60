// In-memory EventStore: the embedded default (ARCHITECTURE §7).
//
// Layout, chosen for a low per-event overhead and O(1) lookups:
// - `log`: every stored event as its protobuf encoding, indexed by position - 1
//   (positions are 1-based and gapless), with its type, step name and run in
//   typed columns (event-log.ts: bytes are not the garbage collector's work,
//   objects were, and more so the more the store held);
// - per run, `indexes`: the log index of each of its events, by sequence - 1
//   (sequences are 1-based and gapless);
// - `byId`: event ID → log index, for idempotent retries and ID conflicts
//   (id-index.ts: store-assigned IDs in a sorted array, client-given ones in a Map,
//   whose 2^24 entries bound them: options.maxClientIds).
// load() and readLog() return fresh decoded copies; loadEncoded() and
// readLogEncoded() the stored bytes, which the gRPC port sends as they are.
// append() returns the normalized events it encoded as `stored`; the store
// keeps no reference to them (nor to the caller's sub-messages).
// The "objects" layout (options.layout) keeps the normalized events themselves
// instead and hands them out to readers, who must treat them as immutable (a
// read of a whole run gets the run's own array, frozen, until it next changes);
// after append() it owns the caller's sub-messages (payload, output, metadata),
// which the caller must not change. It has no loadEncoded/readLogEncoded.
//
// Concurrency: Node runs one call at a time, and append() has no await between
// its checks and its mutation, so no interleaving of calls can break an invariant
// and no reader ever sees half a batch.
import type { Event } from "../../../gen/runlog/v1/event_pb.js";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { LimitExceededError, UnavailableError } from "../../errors.js";
import { initialRunStatus, trackRunStatus, type RunStatusTrack } from "../../events/run-status.js";
import { validateRunId } from "../../events/validate.js";
import { defaultLimits, type Limits } from "../../limits.js";
import type {
  AppendedEvent,
  AppendListener,
  AppendOptions,
  AppendResult,
  EncodedEvents,
  EventStore,
  ListRunsOptions,
  ListRunsResult,
  LoadOptions,
  ReadLogOptions,
  RunSummary,
} from "../event-store.js";
import { checkExpectedSequence, numberRunEvents } from "../expected-sequence.js";
import { compileFieldFilter, type FieldPredicate } from "../filter.js";
import { resolveRetry } from "../idempotency.js";
import { decodeRunPageToken, encodeRunPageToken, nonNegative, pageLimit, runPageSize } from "../paging.js";
import { prepareBatch } from "../prepare.js";
import type { SnapshotStore } from "../snapshot-store.js";
import { createEventLog, type MemoryLayout } from "./event-log.js";
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
  /**
   * "bytes" (default): events kept encoded, read as decoded copies, and sent by
   * the gRPC port as they are. "objects": the appended objects kept and handed
   * out (fast in-process reads, far more heap and garbage-collector work).
   */
  readonly layout?: MemoryLayout;
  /**
   * The most events with client-given IDs the store holds (default and upper
   * bound 2^24, the most entries a JavaScript Map holds). An append that would
   * pass it is refused, nothing stored: RESOURCE_EXHAUSTED, limit
   * `memory_client_event_ids`. Events with IDs the store assigns do not count.
   */
  readonly maxClientIds?: number;
}

interface RunRecord {
  readonly runId: string;
  /** Its index in `runs`, kept in the log's run column. */
  readonly number: number;
  /** The log index of each of its events, by sequence - 1. */
  readonly indexes: number[];
  /** From the run's first workflow.started; "" before it. */
  workflowName: string;
  started: boolean;
  readonly status: RunStatusTrack;
  firstEventAt: Timestamp | undefined;
  lastEventAt: Timestamp | undefined;
}

/**
 * A page of a scanned range, as offsets k in that range: for a run, k is the
 * event's sequence - 1; for the log, its position - 1.
 */
interface ScanPage {
  /** The offsets of the page's events; undefined: every offset from `from` to `to` - 1. */
  readonly ks: number[] | undefined;
  readonly from: number;
  readonly to: number;
  /** The offset of the last event examined; -1 when none was. */
  readonly lastExamined: number;
  readonly hasMore: boolean;
}

function offsetsOf(page: ScanPage): number[] {
  if (page.ks !== undefined) return page.ks;
  const ks: number[] = new Array(page.to - page.from);
  for (let k = page.from; k < page.to; k++) ks[k - page.from] = k;
  return ks;
}

export function createMemoryEventStore(options: MemoryEventStoreOptions = {}): EventStore {
  const limits = options.limits ?? defaultLimits;
  const onListenerError = options.onListenerError;
  const innerSnapshots = options.snapshots ?? createMemorySnapshotStore();

  const log = createEventLog(options.layout ?? "bytes");
  const runs = new Map<string, RunRecord>();
  /** By RunRecord.number. */
  const runList: RunRecord[] = [];
  const byId = createIdIndex(options.maxClientIds);
  /** Run IDs in creation order; sorted lazily (and cheaply: TimSort on a sorted prefix) by listRuns. */
  const runIds: string[] = [];
  let runIdsSorted = true;
  /** Replaced, never mutated, so that a notification walks a stable list. */
  let listeners: readonly AppendListener[] = [];
  let closed = false;

  const workflowOf = (runId: string): string => runs.get(runId)?.workflowName ?? "";
  const runAt = (index: number): RunRecord => runList[log.run(index)]!;

  function assertOpen(): void {
    if (closed) throw new UnavailableError("the event store is closed");
  }

  function lastSequenceOf(runId: string): bigint {
    const run = runs.get(runId);
    return run === undefined ? 0n : BigInt(run.indexes.length);
  }

  function appendNow(input: readonly Event[], appendOptions: AppendOptions | undefined): AppendResult {
    assertOpen();
    // 1. Validate and normalize (copies; nothing stored yet).
    const batch = prepareBatch(input, appendOptions, limits);
    const events = batch.events;
    const received = appendOptions?.received?.length === input.length ? appendOptions.received : undefined;

    // 2. Idempotent retry? Decided from the stored events.
    let found: (Event | undefined)[] | undefined;
    for (let i = 0; i < events.length; i++) {
      const index = batch.clientIds[i] ? byId.get(events[i]!.id) : undefined;
      if (index === undefined) continue;
      found ??= new Array(events.length);
      found[i] = log.event(index);
    }
    if (found !== undefined) {
      const original = resolveRetry(batch, found);
      if (original !== undefined) return { events: original, duplicate: true };
    }

    // 3. Room for the client-given IDs, expectations, then numbering: every check before any mutation.
    let clientIds = 0;
    for (let i = 0; i < events.length; i++) if (batch.clientIds[i]) clientIds++;
    if (byId.given + clientIds > byId.maxGiven) {
      throw new LimitExceededError("memory_client_event_ids", BigInt(byId.given + clientIds), BigInt(byId.maxGiven));
    }
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
      const index = log.length;
      event.position = BigInt(index + 1);
      log.push(event, run.number, received?.[i], input[i]);
      run.indexes.push(index);
      byId.add(event.id, index, !batch.clientIds[i], batch.assignedIds, i * 16);
      if (!run.started && event.payload.case === "workflowStarted") {
        run.started = true;
        run.workflowName = event.payload.value.workflowName;
      }
      run.firstEventAt ??= event.timestamp;
      run.lastEventAt = event.timestamp;
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
      run = {
        runId,
        number: runList.length,
        indexes: [],
        workflowName: "",
        started: false,
        status: initialRunStatus(),
        firstEventAt: undefined,
        lastEventAt: undefined,
      };
      runs.set(runId, run);
      runList.push(run);
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

  /** The page of one run's events a load() asks for (offsets: sequence - 1), and the cursor. */
  function loadPage(runId: string, loadOptions: LoadOptions | undefined) {
    assertOpen();
    const run = runs.get(runId);
    // A stored run's ID passed these checks when it was appended.
    if (run === undefined) validateRunId(runId, "run_id", limits);
    const after = nonNegative(loadOptions?.afterSequence ?? 0n, "after_sequence");
    const limit = pageLimit(loadOptions?.limit, limits);
    const filter = loadOptions?.filter;
    const predicate = filter && compileFieldFilter({ types: filter.types, stepNames: filter.stepNames });
    const indexes = run?.indexes ?? [];
    const start = Math.min(Number(after), indexes.length);
    const page = scan((k) => indexes[k]!, start, indexes.length, limit, predicate);
    return {
      run,
      page,
      nextAfterSequence: page.lastExamined < 0 ? after : BigInt(page.lastExamined + 1),
      hasMore: page.hasMore,
    };
  }

  function readLogPage(readOptions: ReadLogOptions | undefined) {
    assertOpen();
    const head = log.length;
    const after = nonNegative(readOptions?.afterPosition ?? 0n, "after_position");
    const to = nonNegative(readOptions?.toPosition ?? 0n, "to_position");
    const limit = pageLimit(readOptions?.limit, limits);
    const predicate = compileFieldFilter(readOptions?.filter);
    const end = to === 0n ? head : Math.min(Number(to), head);
    const start = Math.min(Number(after), end);
    const page = scan((k) => k, start, end, limit, predicate);
    return {
      page,
      nextAfterPosition: page.lastExamined < 0 ? after : BigInt(page.lastExamined + 1),
      hasMore: page.hasMore,
      headPosition: BigInt(head),
    };
  }

  /**
   * The matching events of the range start … end - 1 (`at`: an offset's log
   * index), at most `limit` of them. lastExamined: the last event returned when
   * the page is full, otherwise the last of the range (so a filtered reader
   * skips what did not match). hasMore: whether another matching event follows.
   */
  function scan(
    at: (k: number) => number,
    start: number,
    end: number,
    limit: number,
    predicate: FieldPredicate | undefined,
  ): ScanPage {
    if (start >= end) return { ks: [], from: start, to: start, lastExamined: -1, hasMore: false };
    if (predicate === undefined) {
      const stop = Math.min(end, start + limit);
      return { ks: undefined, from: start, to: stop, lastExamined: stop - 1, hasMore: stop < end };
    }
    const matches = (k: number): boolean => {
      const index = at(k);
      return predicate(log.type(index), log.stepName(index), runAt(index).runId, workflowOf);
    };
    const ks: number[] = [];
    let k = start;
    for (; k < end && ks.length < limit; k++) if (matches(k)) ks.push(k);
    if (ks.length < limit) return { ks, from: start, to: end, lastExamined: end - 1, hasMore: false };
    let hasMore = false;
    for (; k < end; k++) {
      if (matches(k)) {
        hasMore = true;
        break;
      }
    }
    // A full page with nothing after it: the whole range was examined.
    return { ks, from: start, to: end, lastExamined: hasMore ? ks[ks.length - 1]! : end - 1, hasMore };
  }

  const decoded = (indexes: readonly number[], foldOnly?: boolean): Event[] =>
    indexes.map((index) => log.event(index, foldOnly));
  /** The log indexes of a run's events at these offsets (sequence - 1). */
  const runIndexes = (run: RunRecord | undefined, ks: readonly number[]): number[] =>
    run === undefined ? [] : ks.map((k) => run.indexes[k]!);
  /** The events at `indexes` as stored; `offsets`: their sequences or positions - 1. */
  const encoded = (bytes: (index: number) => Uint8Array, indexes: readonly number[], offsets: readonly number[]): EncodedEvents => ({
    bytes: indexes.map(bytes),
    coordinates: offsets.map((k) => BigInt(k + 1)),
  });

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

  const store: EventStore = {
    async append(events, appendOptions) {
      return appendNow(events, appendOptions);
    },
    async load(runId, loadOptions) {
      const { run, page, nextAfterSequence, hasMore } = loadPage(runId, loadOptions);
      // The objects layout hands out its own events: a page without a filter is one array (event-log.ts).
      const events =
        log.slice !== undefined && page.ks === undefined && run !== undefined
          ? log.slice(run.number, page.from, page.to)
          : decoded(runIndexes(run, offsetsOf(page)), loadOptions?.foldOnly);
      return { events, nextAfterSequence, hasMore };
    },
    async getLastSequence(runId) {
      assertOpen();
      validateRunId(runId, "run_id", limits);
      return lastSequenceOf(runId);
    },
    async readLog(readOptions) {
      const { page, ...cursor } = readLogPage(readOptions);
      const events = log.slice !== undefined && page.ks === undefined ? log.slice(undefined, page.from, page.to) : decoded(offsetsOf(page));
      return { ...cursor, events };
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
  const bytes = log.bytes;
  if (bytes === undefined) return store; // objects layout: the service encodes its pages itself
  return {
    ...store,
    async loadEncoded(runId, loadOptions) {
      const { run, page, nextAfterSequence, hasMore } = loadPage(runId, loadOptions);
      const sequences = offsetsOf(page);
      return { events: encoded(bytes, runIndexes(run, sequences), sequences), nextAfterSequence, hasMore };
    },
    async readLogEncoded(readOptions) {
      const { page, ...cursor } = readLogPage(readOptions);
      const positions = offsetsOf(page);
      return { ...cursor, events: encoded(bytes, positions, positions) };
    },
  };
}

function summarize(run: RunRecord): RunSummary {
  return {
    runId: run.runId,
    workflowName: run.workflowName,
    status: run.status.status,
    lastSequence: BigInt(run.indexes.length),
    firstEventAt: run.firstEventAt,
    lastEventAt: run.lastEventAt,
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
