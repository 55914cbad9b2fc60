// The Reconstructor over an EventStore: run states from the latest snapshot plus
// the events after it, time travel, snapshots every N events, and lifecycle
// validation at append time from a bounded cache of the runs' latest states.
//
// Snapshots (adr/0001, adr/0004): saved when a run's sequence reaches a multiple of
// `snapshotEvery` (fewer of them for a run whose state is large), beside the events (store.snapshots), tagged with the reducer
// version. A snapshot that does not decode, disagrees with its key, or was written
// by another reducer version is ignored: the state is rebuilt by a full replay.
// Snapshot problems never fail a read or an append; they go to onSnapshotError.
//
// The cache holds the latest working state of recently appended runs. It only ever
// holds committed events, and it is never trusted blindly: each use first asks the
// store for the run's last sequence and folds whatever it lacks.
import type { Event } from "../../gen/runlog/v1/event_pb.js";
import { LifecycleViolationError, RunNotFoundError } from "../errors.js";
import type { EventStore } from "../store/event-store.js";
import { eventTypeOf } from "./event-type-of.js";
import { evolve } from "./evolve.js";
import { initialRunState } from "./initial-state.js";
import { checkLifecycle } from "./lifecycle.js";
import { createLruCache } from "./lru-cache.js";
import type { Reconstructor, RunStateResult } from "./reconstructor.js";
import { currentReducerVersion } from "./reducer-version.js";
import { cloneRunModel, type RunModel } from "./run-model.js";
import { decodeSnapshot, encodeSnapshot } from "./snapshot-codec.js";
import { toRunState } from "./to-run-state.js";

/** Default snapshot interval in events (adr/0004). */
export const defaultSnapshotEvery = 100;
/**
 * Default bytes of snapshot per event it saves replaying (adr/0004): a due snapshot
 * is skipped while fewer events than the run's last snapshot's size / this have
 * passed since that snapshot.
 */
export const defaultSnapshotBytesPerEvent = 32;
/** Default number of runs whose latest state is cached for validateAppend. */
export const defaultCacheSize = 1_000;

export interface SnapshotErrorContext {
  /** load: snapshots.latest failed; decode: a corrupt snapshot; save: snapshots.save failed; fold: afterAppend could not fold. */
  readonly operation: "load" | "decode" | "save" | "fold";
  readonly runId: string;
  readonly sequence: bigint;
}

export interface ReconstructorOptions {
  readonly store: EventStore;
  /**
   * Save a snapshot each time a run's sequence reaches a multiple of this many
   * events. 0 saves none (existing snapshots are still read). Default 100.
   */
  readonly snapshotEvery?: number;
  /**
   * …unless the run's last snapshot was large: then a multiple is skipped while
   * fewer than (its size in bytes / this) events have passed since it, so that
   * encoding a run's snapshots costs at most about this many bytes per event
   * appended, however large the state. 0: every multiple. Default 32.
   */
  readonly snapshotBytesPerEvent?: number;
  /** The reducer version snapshots are written and read with. Default currentReducerVersion. */
  readonly reducerVersion?: number;
  /** Runs whose latest state is kept in memory. 0 disables the cache. Default 1,000. */
  readonly cacheSize?: number;
  /** Told about every snapshot problem that was swallowed (for logs and metrics). */
  readonly onSnapshotError?: (error: unknown, context: SnapshotErrorContext) => void;
}

const maxSequence = (1n << 63n) - 1n;
/** Pass a Load limit only below this (above it the store's own page size applies). */
const maxLoadLimit = 10_000n;

export function createReconstructor(options: ReconstructorOptions): Reconstructor {
  const store = options.store;
  const snapshotEvery = BigInt(nonNegativeInteger(options.snapshotEvery ?? defaultSnapshotEvery, "snapshotEvery"));
  const bytesPerEvent = BigInt(
    nonNegativeInteger(options.snapshotBytesPerEvent ?? defaultSnapshotBytesPerEvent, "snapshotBytesPerEvent"),
  );
  const reducerVersion = nonNegativeInteger(options.reducerVersion ?? currentReducerVersion, "reducerVersion");
  const cache = createLruCache<string, RunModel>(nonNegativeInteger(options.cacheSize ?? defaultCacheSize, "cacheSize"));
  const onSnapshotError = options.onSnapshotError;
  /** The last snapshot saved of each recently appended run: its sequence and size. */
  const lastSaved = createLruCache<string, { readonly sequence: bigint; readonly bytes: bigint }>(
    nonNegativeInteger(options.cacheSize ?? defaultCacheSize, "cacheSize"),
  );

  /** Whether a snapshot at `sequence` comes too soon after the run's last one, for the size of that one. */
  function tooSoon(runId: string, sequence: bigint): boolean {
    const last = lastSaved.get(runId);
    return bytesPerEvent > 0n && last !== undefined && sequence > last.sequence && (sequence - last.sequence) * bytesPerEvent < last.bytes;
  }

  function report(error: unknown, operation: SnapshotErrorContext["operation"], runId: string, sequence: bigint): void {
    try {
      onSnapshotError?.(error, { operation, runId, sequence });
    } catch {
      // A failing observer must not fail reads or appends.
    }
  }

  /** The newest usable snapshot at or before `atOrBefore`, decoded; else the initial state. */
  async function restore(runId: string, atOrBefore: bigint): Promise<{ model: RunModel; snapshotSequence: bigint }> {
    let snapshot;
    try {
      snapshot = await store.snapshots.latest(runId, atOrBefore, reducerVersion);
    } catch (error) {
      report(error, "load", runId, atOrBefore);
    }
    if (
      snapshot !== undefined &&
      snapshot.reducerVersion === reducerVersion &&
      snapshot.runId === runId &&
      snapshot.sequence > 0n &&
      snapshot.sequence <= atOrBefore
    ) {
      try {
        return { model: decodeSnapshot(snapshot.state, runId, snapshot.sequence), snapshotSequence: snapshot.sequence };
      } catch (error) {
        report(error, "decode", runId, snapshot.sequence);
      }
    }
    return { model: initialRunState(runId), snapshotSequence: 0n };
  }

  /**
   * Folds the run's stored events after the state's last sequence, up to `until`
   * (default: the end). Events the state already holds (folded meanwhile by a
   * concurrent caller) are skipped. Returns the number of events folded.
   */
  async function catchUp(model: RunModel, until?: bigint): Promise<number> {
    let after = model.lastSequence;
    let folded = 0;
    for (;;) {
      let limit: number | undefined;
      if (until !== undefined) {
        const remaining = until - after;
        if (remaining <= 0n) break;
        if (remaining < maxLoadLimit) limit = Number(remaining);
      }
      // The fold never reads metadata or IDs: the store may skip decoding them.
      const page = await store.load(
        model.runId,
        limit === undefined ? { afterSequence: after, foldOnly: true } : { afterSequence: after, limit, foldOnly: true },
      );
      for (const event of page.events) {
        if (until !== undefined && event.sequence > until) return folded;
        if (event.sequence <= model.lastSequence) continue;
        evolve(model, event);
        folded++;
      }
      if (!page.hasMore || page.nextAfterSequence <= after) break;
      after = page.nextAfterSequence;
    }
    return folded;
  }

  /** Caches a latest state unless a newer one is cached. Returns the one cached (or this one). */
  function remember(model: RunModel): RunModel {
    const cached = cache.get(model.runId);
    if (cached !== undefined && cached.lastSequence >= model.lastSequence) return cached;
    cache.set(model.runId, model);
    return model;
  }

  /** The run's latest state, confirmed against the store. */
  async function current(runId: string): Promise<RunModel> {
    const cached = cache.get(runId);
    if (cached !== undefined) {
      const last = await store.getLastSequence(runId);
      if (last > cached.lastSequence) {
        try {
          await catchUp(cached);
        } catch (error) {
          cache.delete(runId);
          throw error;
        }
      }
      return cached;
    }
    // A new run (the first append of every run) needs no snapshot lookup.
    if ((await store.getLastSequence(runId)) === 0n) return remember(initialRunState(runId));
    const { model } = await restore(runId, maxSequence);
    await catchUp(model);
    return remember(model);
  }

  async function save(runId: string, sequence: bigint, state: Uint8Array): Promise<void> {
    try {
      await store.snapshots.save({ runId, sequence, reducerVersion, state });
      lastSaved.set(runId, { sequence, bytes: BigInt(state.length) });
    } catch (error) {
      report(error, "save", runId, sequence);
    }
  }

  /** Rebuilds the state at `sequence` from the store, saves its snapshot, then caches it advanced by `events`. */
  async function snapshotFromStore(runId: string, sequence: bigint, events: readonly Event[]): Promise<void> {
    try {
      const { model } = await restore(runId, sequence);
      await catchUp(model, sequence);
      if (model.lastSequence !== sequence) return;
      await save(runId, sequence, encodeSnapshot(model));
      for (const event of events) if (event.sequence === model.lastSequence + 1n) evolve(model, event);
      remember(model);
    } catch (error) {
      report(error, "fold", runId, sequence);
    }
  }

  /** Folds a run's newly stored events into its cached state and saves the snapshot due, if any. */
  function advance(runId: string, events: readonly Event[]): Promise<void> | undefined {
    const first = events[0]!.sequence;
    const last = events[events.length - 1]!.sequence;
    // The highest multiple of snapshotEvery this batch reaches, if it reaches one.
    const due = snapshotEvery > 0n ? last - (last % snapshotEvery) : 0n;
    const wanted = due > 0n && due >= first && !tooSoon(runId, due) ? due : 0n;
    const cached = cache.get(runId);
    if (cached === undefined || cached.lastSequence < first - 1n) {
      // Not cached, or behind (another batch's afterAppend has not run yet): the next
      // validateAppend catches up from the store. Only a due snapshot needs work now.
      return wanted > 0n ? snapshotFromStore(runId, wanted, events) : undefined;
    }
    const before = cached.lastSequence;
    let snapshot: Uint8Array | undefined;
    try {
      for (const event of events) {
        if (event.sequence <= cached.lastSequence) continue;
        evolve(cached, event);
        if (event.sequence === wanted) snapshot = encodeSnapshot(cached);
      }
    } catch (error) {
      // A half-folded state must not be served.
      cache.delete(runId);
      report(error, "fold", runId, last);
      return undefined;
    }
    if (wanted === 0n) return undefined;
    if (snapshot !== undefined) return save(runId, wanted, snapshot);
    // The cached state passed the boundary before this call (a concurrent catch-up).
    return before >= wanted ? snapshotFromStore(runId, wanted, []) : undefined;
  }

  /** Whether every event of the run's batch carries an ID already stored in the run: a retry the store will answer. */
  async function isStoredRetry(runId: string, events: readonly Event[]): Promise<boolean> {
    const ids = new Set<string>();
    for (const event of events) {
      if (event.id === "") return false;
      ids.add(event.id.toLowerCase());
    }
    let after = 0n;
    for (;;) {
      const page = await store.load(runId, { afterSequence: after });
      for (const event of page.events) {
        ids.delete(event.id);
        if (ids.size === 0) return true;
      }
      if (!page.hasMore || page.nextAfterSequence <= after) return false;
      after = page.nextAfterSequence;
    }
  }

  async function validateRun(runId: string, events: readonly Event[]): Promise<bigint> {
    const model = await current(runId);
    const against = model.lastSequence;
    try {
      checkRun(model, events);
    } catch (error) {
      if (error instanceof LifecycleViolationError && (await isStoredRetry(runId, events))) return against;
      throw error;
    }
    return against;
  }

  return {
    async getRunState(runId, asOfSequence): Promise<RunStateResult> {
      if (asOfSequence !== undefined && asOfSequence < 1n) {
        throw new RunNotFoundError(
          runId,
          await store.getLastSequence(runId),
          `run ${JSON.stringify(runId)} has no sequence ${asOfSequence}: sequences start at 1`,
        );
      }
      const { model, snapshotSequence } = await restore(runId, asOfSequence ?? maxSequence);
      const replayedEvents = await catchUp(model, asOfSequence);
      if (model.lastSequence === 0n) throw new RunNotFoundError(runId, 0n);
      if (asOfSequence !== undefined && model.lastSequence < asOfSequence) {
        throw new RunNotFoundError(
          runId,
          model.lastSequence,
          `run ${JSON.stringify(runId)} has no sequence ${asOfSequence}: its last sequence is ${model.lastSequence}`,
        );
      }
      const state = toRunState(model);
      if (asOfSequence === undefined) remember(model);
      return { state, snapshotSequence, replayedEvents };
    },

    async validateAppend(events) {
      const byRun = groupByRun(events);
      if (byRun.size === 1) {
        const [runId, runEvents] = byRun.entries().next().value!;
        return new Map([[runId, await validateRun(runId, runEvents)]]);
      }
      const runs = [...byRun];
      const against = await Promise.all(runs.map(([runId, runEvents]) => validateRun(runId, runEvents)));
      return new Map(runs.map(([runId], i) => [runId, against[i]!]));
    },

    async afterAppend(events) {
      if (events.length === 0) return;
      const pending: Promise<void>[] = [];
      for (const [runId, runEvents] of groupByRun(events)) {
        const work = advance(runId, runEvents);
        if (work !== undefined) pending.push(work);
      }
      if (pending.length > 0) await Promise.all(pending);
    },
  };
}

/**
 * Checks a run's new events in order against its state (never changed: from the
 * second event on they are checked against a copy advanced by the earlier ones).
 * An event whose sequence is set but is not the next one is left to the store's
 * sequence check (ABORTED), which tells the writer more than a lifecycle rule
 * evaluated against a history it has not seen.
 */
function checkRun(model: RunModel, events: readonly Event[]): void {
  let working = model;
  const last = model.lastSequence;
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!;
    const sequence = last + BigInt(i + 1);
    if (event.sequence !== 0n && event.sequence !== sequence) return;
    const type = eventTypeOf(event);
    checkLifecycle(working, event, type, sequence);
    if (i + 1 < events.length) {
      if (working === model) working = cloneRunModel(model);
      evolve(working, event, type);
    }
  }
}

function groupByRun(events: readonly Event[]): Map<string, Event[]> {
  const byRun = new Map<string, Event[]>();
  for (const event of events) {
    const list = byRun.get(event.runId);
    if (list === undefined) byRun.set(event.runId, [event]);
    else list.push(event);
  }
  return byRun;
}

function nonNegativeInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  return value;
}
