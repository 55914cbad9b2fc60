// The memory store's index of event IDs, for idempotent retries and ID conflicts:
// ID → the event's index in the log (its position - 1).
//
// One Map entry per event was 21 % of the memory store's append CPU (a hash
// table of millions of entries, rehashed as it grows, a cache miss per insert)
// and a Map holds at most 2^24 entries. But most IDs are assigned by the store
// itself as UUIDv7s, which runlog generates in increasing order within a
// process (a millisecond timestamp, then a counter): kept in the order they
// were stored they are already sorted, and a lookup is a binary search. They
// are kept as their 16 bytes in one buffer: as strings they were the last heap
// object left per stored event, and what made appends slow down as the store
// grew. Only client-given IDs — and a server-assigned one that does not sort
// after the last (the clock stepped back) — go to the Map. IDs are compared as
// stored: lower-case (prepareBatch normalizes them), and the bytes of
// lower-case UUIDs sort as their text does.
import { Column } from "./column.js";

/**
 * The most entries a JavaScript Map holds (V8: 2^24; one more throws "Map
 * maximum size exceeded"): the most client-given IDs the index can keep.
 */
export const maxGivenIds = 2 ** 24;

export interface IdIndex {
  /** The log index of the event stored with `id`. */
  get(id: string): number | undefined;
  /**
   * `assigned`: the store generated the ID (a UUIDv7), rather than the client;
   * then `bytes` at `offset` may hold its 16 bytes (else the text is read).
   */
  add(id: string, index: number, assigned: boolean, bytes?: Uint8Array, offset?: number): void;
  readonly size: number;
  /**
   * Client-given IDs held, and the most add() keeps: the caller checks before it
   * stores anything, since add() runs where nothing may fail. A store-assigned
   * ID that does not sort after the last one goes to the same map; with it full
   * that ID is not indexed (uuid's v7 keeps the IDs of one process increasing,
   * so this does not happen).
   */
  readonly given: number;
  readonly maxGiven: number;
}

/** `maxGiven`: the most client-given IDs kept (at most maxGivenIds). */
export function createIdIndex(maxGiven = maxGivenIds): IdIndex {
  if (!Number.isSafeInteger(maxGiven) || maxGiven < 0 || maxGiven > maxGivenIds) {
    throw new RangeError(`maxGiven must be an integer from 0 to ${maxGivenIds}, got ${maxGiven}`);
  }
  const given = new Map<string, number>();
  /** Store-assigned IDs in increasing order, 16 bytes each, and the log index of each. */
  let sortedIds = new Uint8Array(16 * 1024);
  const sortedIndexes = new Column();
  let count = 0;
  const probe = new Uint8Array(16);

  /** Compares probe with the ID at `at`: negative, 0 or positive. */
  function compare(at: number): number {
    const base = at * 16;
    for (let i = 0; i < 16; i++) {
      const d = probe[i]! - sortedIds[base + i]!;
      if (d !== 0) return d;
    }
    return 0;
  }

  function search(): number | undefined {
    let low = 0;
    let high = count - 1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      const c = compare(mid);
      if (c === 0) return sortedIndexes.get(mid);
      if (c > 0) low = mid + 1;
      else high = mid - 1;
    }
    return undefined;
  }

  return {
    get(id) {
      return given.get(id) ?? (parseUuid(id, probe) ? search() : undefined);
    },
    add(id, index, assigned, bytes, offset = 0) {
      if (assigned && bytes !== undefined) for (let k = 0; k < 16; k++) probe[k] = bytes[offset + k]!;
      if (assigned && (bytes !== undefined || parseUuid(id, probe)) && (count === 0 || compare(count - 1) > 0)) {
        if ((count + 1) * 16 > sortedIds.length) {
          const grown = new Uint8Array(sortedIds.length * 2);
          grown.set(sortedIds);
          sortedIds = grown;
        }
        sortedIds.set(probe, count * 16);
        sortedIndexes.set(count, index);
        count++;
      } else if (given.size < maxGiven) given.set(id, index);
    },
    get size() {
      return given.size + count;
    },
    get given() {
      return given.size;
    },
    maxGiven,
  };
}

/** Reads a lower-case UUID (8-4-4-4-12 hex digits) into `into`; false for any other text. */
function parseUuid(id: string, into: Uint8Array): boolean {
  if (id.length !== 36) return false;
  let at = 0;
  for (let i = 0; i < 36; ) {
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (id.charCodeAt(i) !== 45) return false; // "-"
      i++;
      continue;
    }
    const high = hexValue(id.charCodeAt(i));
    const low = hexValue(id.charCodeAt(i + 1));
    if (high < 0 || low < 0) return false;
    into[at++] = (high << 4) | low;
    i += 2;
  }
  return true;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48; // 0-9
  if (c >= 97 && c <= 102) return c - 87; // a-f
  return -1;
}
