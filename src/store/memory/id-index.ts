// The memory store's index of event IDs, for idempotent retries and ID conflicts:
// ID → the event's index in the log (its position - 1).
//
// One Map entry per event was 21 % of the memory store's append CPU (a hash
// table of millions of entries, rehashed as it grows, a cache miss per insert)
// and a Map holds at most 2^24 entries. But most IDs are assigned by the store
// itself as UUIDv7s, which runlog generates in increasing order within a
// process (a millisecond timestamp, then a counter): kept in the order they
// were stored they are already sorted, and a lookup is a binary search. Only
// client-given IDs — and a server-assigned one that does not sort after the
// last (the clock stepped back) — go to the Map. IDs are compared as stored:
// lower-case (prepareBatch normalizes them).

export interface IdIndex {
  /** The log index of the event stored with `id`. */
  get(id: string): number | undefined;
  /** `assigned`: the store generated the ID (a UUIDv7), rather than the client. */
  add(id: string, index: number, assigned: boolean): void;
  readonly size: number;
}

export function createIdIndex(): IdIndex {
  const given = new Map<string, number>();
  /** Store-assigned IDs in increasing order, and the log index of each. */
  const sortedIds: string[] = [];
  const sortedIndexes: number[] = [];

  function search(id: string): number | undefined {
    let low = 0;
    let high = sortedIds.length - 1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      const at = sortedIds[mid]!;
      if (at === id) return sortedIndexes[mid];
      if (at < id) low = mid + 1;
      else high = mid - 1;
    }
    return undefined;
  }

  return {
    get(id) {
      return given.get(id) ?? search(id);
    },
    add(id, index, assigned) {
      if (assigned && (sortedIds.length === 0 || sortedIds[sortedIds.length - 1]! < id)) {
        sortedIds.push(id);
        sortedIndexes.push(index);
      } else given.set(id, index);
    },
    get size() {
      return given.size + sortedIds.length;
    },
  };
}
