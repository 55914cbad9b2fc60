// Subscribe (ARCHITECTURE §5): one run or all runs, filtered; catch-up from
// the store, then live from the store's change feed, with every matching event
// delivered exactly once, in order, and no gap at the seam. docs/subscriptions.md
// describes the state machine this implements.
//
//   attach ─▶ CATCH-UP ─(read says no more, feed intact)─▶ caught_up ─▶ LIVE
//                ▲                                                      │
//                └────────────── fell_behind ◀── buffer overflow ───────┘
//
// The seam: the live feed is attached BEFORE the first read, so every event
// committed after that moment is in the buffer, and every event committed
// before it is at or below what the reads return. Draining the buffer skips
// events at or below the cursor (already delivered or examined by a read).
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { Event } from "../../../gen/runlog/v1/event_pb.js";
import type { SubscribeResponseSchema } from "../../../gen/runlog/v1/event_store_pb.js";
import type { EncodedEvents, EventFilter, EventStore } from "../../store/event-store.js";
import { compileFilter } from "../../store/filter.js";
import { eventBatches, liveBatch, storedBatches, type Encoding } from "./batches.js";
import { createLiveFeed } from "./live-feed.js";
import { encodeEvent, type EventEncoder } from "./shared-encoding.js";
import { createWorkflowNames, type WorkflowNames } from "./workflow-names.js";

export type SubscribeResponseInit = MessageInitShape<typeof SubscribeResponseSchema>;

export interface SubscriptionOptions {
  /** Most events held for one subscriber between the change feed and its stream; beyond: fell_behind. */
  readonly liveBufferEvents: number;
  /** Events per store read while catching up. */
  readonly pageEvents: number;
  /** Most events in one EventBatch message. */
  readonly batchEvents: number;
  /** Most bytes of events in one message (an event larger than this travels alone). Exact for binary protocols, estimated for JSON. */
  readonly batchBytes: number;
  /** A checkpoint is sent when filtering skipped events and nothing was sent for this long… */
  readonly checkpointIntervalMs: number;
  /** …or when at least this many positions were skipped since the last message. */
  readonly checkpointEvents: number;
  /** Runs whose workflow name one subscription remembers (workflow_names filter on live events). */
  readonly workflowCacheEntries: number;
}

export const defaultSubscriptionOptions: SubscriptionOptions = {
  liveBufferEvents: 10_000,
  pageEvents: 2_048,
  batchEvents: 512,
  batchBytes: 1024 * 1024,
  checkpointIntervalMs: 1_000,
  checkpointEvents: 1_000,
  workflowCacheEntries: 10_000,
};

export type SubscriptionStart =
  | { readonly kind: "beginning" }
  | { readonly kind: "after"; readonly after: bigint }
  | { readonly kind: "now" };

export interface SubscriptionSpec {
  /** One run (coordinates are its sequences); undefined: all runs (global positions). */
  readonly runId: string | undefined;
  readonly start: SubscriptionStart;
  readonly filter: EventFilter | undefined;
  /** How the client reads messages: binary batches are sent pre-encoded. */
  readonly encoding: Encoding;
}

/** A page of a read: decoded events, or (StoredPage) the events as the store keeps them encoded. */
interface Page<E = readonly Event[]> {
  readonly events: E;
  /** The coordinate every event up to which has been examined. */
  readonly next: bigint;
  readonly hasMore: boolean;
}

type StoredPage = Page<EncodedEvents>;

interface Scope {
  coordinate(event: Event): bigint;
  inScope(event: Event): boolean;
  read(after: bigint, limit: number): Promise<Page>;
  /** read() with the events as stored, when the store keeps them encoded. */
  readonly readStored: ((after: bigint, limit: number) => Promise<StoredPage>) | undefined;
  head(): Promise<bigint>;
  /** What the store's read did not filter and the subscription must: undefined when nothing. */
  readonly residual: ((event: Event) => boolean | Promise<boolean>) | undefined;
}

const max = (a: bigint, b: bigint) => (a > b ? a : b);

function allRunsScope(store: EventStore, filter: EventFilter | undefined): Scope {
  const options = (after: bigint, limit: number) => ({ afterPosition: after, limit, ...(filter && { filter }) });
  const page = <E>(result: { events: E; nextAfterPosition: bigint; hasMore: boolean; headPosition: bigint }): Page<E> => ({
    events: result.events,
    // With nothing more, everything up to the read's head has been examined.
    next: result.hasMore ? result.nextAfterPosition : max(result.nextAfterPosition, result.headPosition),
    hasMore: result.hasMore,
  });
  return {
    coordinate: (event) => event.position,
    inScope: () => true,
    read: async (after, limit) => page(await store.readLog(options(after, limit))),
    readStored: store.readLogEncoded && (async (after, limit) => page(await store.readLogEncoded!(options(after, limit)))),
    head: () => store.headPosition(),
    residual: undefined, // readLog applies every filter field
  };
}

function runScope(
  store: EventStore,
  runId: string,
  filter: EventFilter | undefined,
  workflowMatch: ((event: Event) => boolean | Promise<boolean>) | undefined,
): Scope {
  // Load applies types and step names; the run-id prefix and workflow names are ours.
  const loadFilter: EventFilter | undefined =
    filter && (filter.types || filter.stepNames)
      ? { ...(filter.types && { types: filter.types }), ...(filter.stepNames && { stepNames: filter.stepNames }) }
      : undefined;
  const prefixMismatch = filter?.runIdPrefix !== undefined && !runId.startsWith(filter.runIdPrefix);
  const residual = prefixMismatch ? () => false : workflowMatch;
  const options = (after: bigint, limit: number) => ({ afterSequence: after, limit, ...(loadFilter && { filter: loadFilter }) });
  const page = <E>(result: { events: E; nextAfterSequence: bigint; hasMore: boolean }): Page<E> => ({
    events: result.events,
    next: result.nextAfterSequence,
    hasMore: result.hasMore,
  });
  return {
    coordinate: (event) => event.sequence,
    inScope: (event) => event.runId === runId,
    read: async (after, limit) => page(await store.load(runId, options(after, limit))),
    readStored: store.loadEncoded && (async (after, limit) => page(await store.loadEncoded!(runId, options(after, limit)))),
    head: () => store.getLastSequence(runId),
    residual,
  };
}

function workflowMatcher(
  filter: EventFilter | undefined,
  names: WorkflowNames,
): ((event: Event) => boolean | Promise<boolean>) | undefined {
  const wanted = filter?.workflowNames?.length ? new Set(filter.workflowNames) : undefined;
  if (wanted === undefined) return undefined;
  return (event) => {
    const name = names.get(event.runId);
    return typeof name === "string" ? wanted.has(name) : name.then((n) => wanted.has(n));
  };
}

/**
 * Runs one subscription until `signal` aborts (then it throws the signal's
 * reason) or the consumer stops iterating. Everything it holds (the change-feed
 * listener, the buffer) is released when it ends, however it ends.
 */
export async function* runSubscription(
  store: EventStore,
  spec: SubscriptionSpec,
  options: SubscriptionOptions,
  signal: AbortSignal,
  /** Encodes live events; pass one shared by every subscription (createSharedEncoder). */
  encodeLive: EventEncoder = encodeEvent,
): AsyncGenerator<SubscribeResponseInit, void, undefined> {
  const { filter } = spec;
  const names = createWorkflowNames(store, options.workflowCacheEntries);
  const workflowMatch = workflowMatcher(filter, names);
  const scope =
    spec.runId === undefined ? allRunsScope(store, filter) : runScope(store, spec.runId, filter, workflowMatch);
  // What the listener can decide synchronously; workflow names are decided in the loop.
  const accept = compileFilter(
    filter && {
      ...(filter.types && { types: filter.types }),
      ...(filter.stepNames && { stepNames: filter.stepNames }),
      ...(filter.runIdPrefix !== undefined && { runIdPrefix: filter.runIdPrefix }),
    },
  );
  const feed = createLiveFeed({
    store,
    capacity: options.liveBufferEvents,
    inScope: scope.inScope,
    coordinate: scope.coordinate,
    accept: accept && ((event) => accept(event, () => "")),
    signal,
  });

  const readStored = spec.encoding === "binary" && scope.residual === undefined ? scope.readStored : undefined;

  // cursor: every coordinate up to here has been delivered or skipped.
  // emitted: the coordinate the client was last told about (event, caught_up, checkpoint, fell_behind).
  let cursor = 0n;
  let emitted = 0n;
  let emittedAt = Date.now();
  const checkpointEvents = BigInt(options.checkpointEvents);
  const checkpointDue = () =>
    cursor > emitted && (cursor - emitted >= checkpointEvents || Date.now() - emittedAt >= options.checkpointIntervalMs);
  const mark = (position: bigint) => {
    emitted = position;
    emittedAt = Date.now();
  };

  try {
    feed.attach(); // FIRST: nothing committed from here on can be missed.
    switch (spec.start.kind) {
      case "beginning":
        break;
      case "after":
        cursor = spec.start.after;
        break;
      case "now":
        cursor = await scope.head();
        break;
    }
    mark(cursor);

    for (;;) {
      // ── CATCH-UP: read pages from the store until a read finds nothing more
      // while the feed stayed attached through it.
      for (;;) {
        signal.throwIfAborted();
        if (!feed.attached) feed.attach();
        let page: { readonly next: bigint; readonly hasMore: boolean };
        if (readStored !== undefined) {
          // Binary, nothing left to filter here: the stored bytes are sent as they are.
          const stored = await readStored(cursor, options.pageEvents);
          signal.throwIfAborted();
          for (const [message, last] of storedBatches(stored.events.bytes, stored.events.coordinates, options)) {
            yield message;
            mark(last);
          }
          page = stored;
        } else {
          const read = await scope.read(cursor, options.pageEvents);
          signal.throwIfAborted();
          let events = read.events;
          if (scope.residual !== undefined && events.length > 0) {
            const kept: Event[] = [];
            for (const event of events) {
              const m = scope.residual(event);
              if (typeof m === "boolean" ? m : await m) kept.push(event);
            }
            events = kept;
          }
          for (const [message, last] of eventBatches(events, spec.encoding, options)) {
            yield message;
            mark(scope.coordinate(last));
          }
          page = read;
        }
        cursor = max(cursor, page.next);
        if (!page.hasMore && !feed.overflowed && feed.attached) break;
        if (checkpointDue()) {
          yield { message: { case: "checkpoint", value: { position: cursor } } };
          mark(cursor);
        }
      }
      yield { message: { case: "caughtUp", value: { position: cursor } } };
      mark(cursor);

      // ── LIVE: drain the buffer, skipping what the reads already covered.
      while (!feed.overflowed) {
        signal.throwIfAborted();
        const chunk = feed.take(options.batchEvents);
        if (chunk.length === 0) {
          // Everything the feed saw has been taken: what it filtered out is examined too.
          cursor = max(cursor, feed.highWater);
          if (checkpointDue()) {
            yield { message: { case: "checkpoint", value: { position: cursor } } };
            mark(cursor);
          }
          const wait = cursor > emitted ? emittedAt + options.checkpointIntervalMs - Date.now() : options.checkpointIntervalMs;
          await feed.wait(wait);
          continue;
        }
        // What to send: the chunk itself until an event is skipped, then a copy.
        let kept: Event[] | undefined;
        for (let i = 0; i < chunk.length; i++) {
          const event = chunk[i]!;
          const c = scope.coordinate(event);
          let send = c > cursor;
          if (send) {
            names.observe(event);
            if (workflowMatch !== undefined) {
              const m = workflowMatch(event);
              send = typeof m === "boolean" ? m : await m;
            }
            cursor = c;
          }
          if (!send) kept ??= chunk.slice(0, i);
          else if (kept !== undefined) kept.push(event);
        }
        const out = kept ?? chunk;
        if (out.length === 1 && spec.encoding === "binary") {
          // The usual live chunk (one append, one event), without eventBatches' arrays and generator.
          const event = out[0]!;
          yield liveBatch(event, encodeLive);
          mark(scope.coordinate(event));
        } else {
          for (const [message, last] of eventBatches(out, spec.encoding, options, encodeLive)) {
            yield message;
            mark(scope.coordinate(last));
          }
        }
        if (checkpointDue()) {
          yield { message: { case: "checkpoint", value: { position: cursor } } };
          mark(cursor);
        }
      }

      // ── FELL BEHIND: the buffer overflowed and was dropped; read from the store again.
      yield { message: { case: "fellBehind", value: { position: cursor } } };
      mark(cursor);
    }
  } finally {
    feed.detach();
  }
}
