// The one expected-sequence check, shared by every store, so that every store
// agrees on numbering exactly (STYLE rule 4).
import type { Event } from "../../gen/runlog/v1/event_pb.js";
import { ConcurrencyConflictError } from "../errors.js";

/** Throws ConcurrencyConflictError when an expectation for the run is set and differs from `actual`. */
export function checkExpectedSequence(runId: string, expected: bigint | undefined, actual: bigint): void {
  if (expected !== undefined && expected !== actual) throw new ConcurrencyConflictError(runId, expected, actual);
}

/**
 * Assigns or checks sequences for one run's events, in batch order, after the
 * run's current last sequence. A 0 sequence takes the next one; a given
 * sequence must be exactly the next one (Skene: sequence == last + 1).
 * Mutates the (already copied) events. Returns the run's new last sequence.
 */
export function numberRunEvents(runId: string, lastSequence: bigint, events: readonly Event[]): bigint {
  let next = lastSequence + 1n;
  for (const event of events) {
    if (event.sequence === 0n) {
      event.sequence = next;
    } else if (event.sequence !== next) {
      // The writer believed the run's last sequence was sequence - 1.
      throw new ConcurrencyConflictError(runId, event.sequence - 1n, next - 1n);
    }
    next++;
  }
  return next - 1n;
}
