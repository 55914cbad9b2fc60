// Idempotent retries (ARCHITECTURE §4): re-sending exactly the events already
// stored returns the original result and stores nothing; an ID reused for a
// different event is ALREADY_EXISTS; a batch that is partly stored is rejected.
// Decided from stored events, so it holds across restarts.
import { equals } from "@bufbuild/protobuf";
import { EventSchema, type Event } from "../../gen/runlog/v1/event_pb.js";
import { EventIdConflictError } from "../errors.js";
import type { AppendedEvent } from "./event-store.js";
import type { PreparedBatch } from "./prepare.js";

/**
 * Whether a prepared (normalized) event is the same event as a stored one:
 * the server-assigned fields the client left open (sequence 0, no timestamp)
 * are taken from the stored event before comparing.
 */
export function isSameEvent(stored: Event, prepared: Event, clientTimestamp: boolean): boolean {
  if (stored.runId !== prepared.runId) return false;
  if (prepared.sequence !== 0n && prepared.sequence !== stored.sequence) return false;
  const candidate: Event = {
    ...prepared,
    sequence: stored.sequence,
    position: stored.position,
    timestamp: clientTimestamp ? prepared.timestamp : stored.timestamp,
  };
  return equals(EventSchema, stored, candidate);
}

/**
 * Given the stored event found for each batch event's ID (undefined where
 * none, or where the client gave no ID), either returns the original result (an exact retry), returns
 * undefined (nothing stored yet: go ahead), or throws EventIdConflictError.
 */
export function resolveRetry(
  batch: PreparedBatch,
  found: readonly (Event | undefined)[],
): AppendedEvent[] | undefined {
  let storedCount = 0;
  for (let i = 0; i < found.length; i++) {
    const stored = found[i];
    if (stored === undefined) continue;
    storedCount++;
    if (!isSameEvent(stored, batch.events[i]!, batch.clientTimestamps[i]!)) {
      throw new EventIdConflictError(stored.id, stored.runId, stored.sequence);
    }
  }
  if (storedCount === 0) return undefined;
  if (storedCount < found.length) {
    // Partly stored: name the first stored event, whose ID the batch cannot reuse.
    const stored = found.find((e) => e !== undefined)!;
    throw new EventIdConflictError(stored.id, stored.runId, stored.sequence);
  }
  return found.map((e) => ({ id: e!.id, runId: e!.runId, sequence: e!.sequence, position: e!.position }));
}
