// The memory store's index of event IDs, for idempotent retries and ID conflicts.
//
// One Map entry per event was 21 % of the memory store's append CPU (a hash
// table of millions of entries, rehashed as it grows, a cache miss per insert)
// and a Map holds at most 2^24 entries. But most IDs are assigned by the store
// itself as UUIDv7s, which the uuid package generates in increasing order
// within a process (a millisecond timestamp, then a counter): kept in the order
// they were stored they are already sorted, and a lookup is a binary search.
// Only client-given IDs — and a server-assigned one that does not sort after
// the last (the clock stepped back by more than uuid's 10 s tolerance) — go to
// the Map. IDs are compared as stored: lower-case (prepareBatch normalizes them).
import type { Event } from "../../../gen/runlog/v1/event_pb.js";

export interface IdIndex {
  get(id: string): Event | undefined;
  /** `assigned`: the store generated the ID (a UUIDv7), rather than the client. */
  add(event: Event, assigned: boolean): void;
  readonly size: number;
}

export function createIdIndex(): IdIndex {
  const given = new Map<string, Event>();
  /** Events with store-assigned IDs, in increasing ID order. */
  const sorted: Event[] = [];

  function search(id: string): Event | undefined {
    let low = 0;
    let high = sorted.length - 1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      const candidate = sorted[mid]!;
      const at = candidate.id;
      if (at === id) return candidate;
      if (at < id) low = mid + 1;
      else high = mid - 1;
    }
    return undefined;
  }

  return {
    get(id) {
      return given.get(id) ?? search(id);
    },
    add(event, assigned) {
      if (assigned && (sorted.length === 0 || sorted[sorted.length - 1]!.id < event.id)) sorted.push(event);
      else given.set(event.id, event);
    },
    get size() {
      return given.size + sorted.length;
    },
  };
}
