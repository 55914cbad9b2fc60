// Append and AppendBatch share this: lifecycle validation made atomic with the
// write, client expectations combined with the validator's, bounded retries
// when only the server cared which sequence the run was at, and snapshots after.
// The events' unread JSON values (src/codec/lazy-value.ts) are settled once stored:
// the reconstructor keeps them, and must not keep the request's bytes with them.
import { Code, ConnectError } from "@connectrpc/connect";
import type { Event } from "../../gen/runlog/v1/event_pb.js";
import { settleLazyValues } from "../codec/lazy-value.js";
import {
  ConcurrencyConflictError,
  EventIdConflictError,
  InvalidArgumentError,
  LifecycleViolationError,
  LimitExceededError,
} from "../errors.js";
import { eventField, validateEvent } from "../events/validate.js";
import type { Limits } from "../limits.js";
import type { Logger } from "../logger.js";
import type { Reconstructor } from "../reconstruct/reconstructor.js";
import type { AppendResult, EventStore } from "../store/event-store.js";

export interface AppenderDeps {
  readonly store: EventStore;
  readonly reconstructor: Reconstructor;
  readonly limits: Limits;
  readonly lifecycleValidation: boolean;
  readonly logger: Logger;
  /** Attempts when the run moved between validation and write and the client pinned nothing. */
  readonly maxAttempts: number;
}

/**
 * Appends `events`. `throwIfCancelled`: throws when the call was cancelled
 * (src/service/cancellation.ts); `timeLeftMs`: the milliseconds left before the
 * call's deadline (undefined without one).
 */
export type Appender = (
  events: readonly Event[],
  clientExpected: ReadonlyMap<string, bigint>,
  throwIfCancelled: () => void,
  timeLeftMs?: () => number | undefined,
  /** Each event's encoding as received (AppendOptions.received), when the transport has it. */
  received?: readonly Uint8Array[],
) => Promise<AppendResult>;

/**
 * A write is not started with less time left than this: it would likely be
 * stored after the client gave up (DEADLINE_EXCEEDED) and the client would
 * believe it was not. The write is refused with DEADLINE_EXCEEDED instead.
 */
export const minWriteBudgetMs = 2;

/**
 * An expectation no run can meet (2^62 events): appending with it stores
 * nothing, but a store still recognises an exact retry of stored events and
 * returns the original result (retries are decided before expectations, §4).
 */
const unreachableSequence = 1n << 62n;

export function createAppender(deps: AppenderDeps): Appender {
  const { store, reconstructor, limits, lifecycleValidation, logger, maxAttempts } = deps;


  /** The original result when `events` exactly repeat stored events; undefined otherwise. */
  async function asRetry(events: readonly Event[]): Promise<AppendResult | undefined> {
    if (events.some((e) => e.id === "")) return undefined; // only client IDs make a retry
    const expected = new Map<string, bigint>();
    for (const e of events) expected.set(e.runId, unreachableSequence);
    try {
      const result = await store.append(events, { expected });
      return result.duplicate ? result : undefined;
    } catch (error) {
      if (error instanceof EventIdConflictError) throw error; // an ID reused for another event says more
      return undefined;
    }
  }

  /**
   * The reconstructor folds the stored events into its cached states and saves
   * snapshots; it must get them exactly as stored, which the store returns. A
   * store that does not leaves the cache behind: the next validateAppend catches
   * up from the store, and a skipped snapshot only costs a longer replay.
   * First `events`' unread JSON values are settled (the cache would keep them).
   */
  async function afterAppend(events: readonly Event[], result: AppendResult): Promise<void> {
    settleLazyValues(events);
    if (result.duplicate || result.stored === undefined) return;
    try {
      await reconstructor.afterAppend(result.stored);
    } catch (error) {
      // The events are stored; a missed snapshot only costs a longer replay later.
      logger.warn({ err: error }, "snapshot after append failed");
    }
  }

  /** Throws when the call was cancelled or has too little time left to write. */
  function checkTimeLeft(throwIfCancelled: () => void, timeLeftMs: (() => number | undefined) | undefined): void {
    throwIfCancelled();
    const left = timeLeftMs?.();
    if (left !== undefined && left < minWriteBudgetMs) {
      throw new ConnectError(`deadline exceeded: ${left} ms left, too little to start a write`, Code.DeadlineExceeded);
    }
  }

  return async (events, clientExpected, throwIfCancelled, timeLeftMs, received) => {
    if (events.length === 0) throw new InvalidArgumentError("events", "must not be empty");
    if (events.length > limits.maxBatchEvents) {
      throw new LimitExceededError("max_batch_events", BigInt(events.length), BigInt(limits.maxBatchEvents));
    }
    // Every event checked first: a malformed event is INVALID_ARGUMENT before any
    // lifecycle question is asked.
    for (let i = 0; i < events.length; i++) validateEvent(events[i]!, eventField(events.length, i), limits);

    if (!lifecycleValidation) {
      checkTimeLeft(throwIfCancelled, timeLeftMs);
      const result = await store.append(events, { expected: clientExpected, received, validated: limits });
      await afterAppend(events, result);
      return result;
    }

    for (let attempt = 1; ; attempt++) {
      let checkedAt: Map<string, bigint>;
      try {
        checkedAt = await reconstructor.validateAppend(events);
      } catch (error) {
        if (error instanceof LifecycleViolationError || error instanceof ConcurrencyConflictError) {
          const retry = await asRetry(events);
          if (retry !== undefined) return retry;
          // A writer whose expectation is stale learns that first (ABORTED: re-read, decide
          // again), not a rule judged against a history it has not seen.
          for (const [runId, expected] of clientExpected) {
            const actual = await store.getLastSequence(runId);
            if (actual !== expected) throw new ConcurrencyConflictError(runId, expected, actual);
          }
        }
        throw error;
      }
      const expected = new Map(clientExpected);
      for (const [runId, at] of checkedAt) {
        const client = clientExpected.get(runId);
        if (client !== undefined && client !== at) {
          const retry = await asRetry(events);
          if (retry !== undefined) return retry;
          throw new ConcurrencyConflictError(runId, client, at);
        }
        expected.set(runId, at);
      }
      checkTimeLeft(throwIfCancelled, timeLeftMs);
      let result: AppendResult;
      try {
        result = await store.append(events, { expected, received, validated: limits });
      } catch (error) {
        if (error instanceof ConcurrencyConflictError && attempt < maxAttempts && serverNumbered(error.runId, events, clientExpected)) {
          continue; // the run moved since validation; validate against the new history
        }
        throw error;
      }
      await afterAppend(events, result);
      return result;
    }
  };
}

/** Whether only the server cares which sequence the run is at: no client expectation, all its sequences 0. */
function serverNumbered(runId: string, events: readonly Event[], clientExpected: ReadonlyMap<string, bigint>): boolean {
  if (clientExpected.has(runId)) return false;
  for (const e of events) if (e.runId === runId && e.sequence !== 0n) return false;
  return true;
}
