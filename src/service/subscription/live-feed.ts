// A subscriber's live buffer: events from the store's change feed (onAppend),
// held until the subscription's delivery loop takes them. Bounded: when it
// would hold more than `capacity` events it drops everything, detaches from
// the feed and says so (overflowed), so a slow subscriber never grows memory
// and a writer never waits for a reader (the listener only ever pushes).
import type { Event } from "../../../gen/runlog/v1/event_pb.js";
import type { EventStore } from "../../store/event-store.js";

export interface LiveFeedOptions {
  readonly store: EventStore;
  /** Most events held at once. */
  readonly capacity: number;
  /** Whether an event belongs to the subscription's scope (one run, or all). */
  readonly inScope: (event: Event) => boolean;
  /** The subscription's coordinate for an event: its sequence (run scope) or position (all runs). */
  readonly coordinate: (event: Event) => bigint;
  /** Filters that can be decided synchronously; events failing it are never buffered. */
  readonly accept: ((event: Event) => boolean) | undefined;
  /** The subscription's signal: a wait ends when it aborts. */
  readonly signal: AbortSignal;
}

export interface LiveFeed {
  readonly attached: boolean;
  /** The buffer overflowed since the last attach: it was emptied and detached. */
  readonly overflowed: boolean;
  /** Coordinate of the last in-scope event the feed saw (buffered or filtered out) since attach; 0n if none. */
  readonly highWater: bigint;
  /** Events currently buffered. */
  readonly size: number;
  /** Starts listening with an empty buffer; clears the overflow flag. No-op when attached. */
  attach(): void;
  /** Stops listening and drops the buffer; lets go of the signal and the timer. */
  detach(): void;
  /** Removes and returns up to `max` buffered events, oldest first. */
  take(max: number): Event[];
  /** Resolves when something was buffered or the feed overflowed, after `timeoutMs`, or when the signal aborts. */
  wait(timeoutMs: number): Promise<void>;
}

export function createLiveFeed(options: LiveFeedOptions): LiveFeed {
  const { store, capacity, inScope, coordinate, accept, signal } = options;
  let chunks: Event[][] = [];
  let head = 0; // index of the first unread event in chunks[0]
  let size = 0;
  let highWater = 0n;
  let overflowed = false;
  let remove: (() => void) | undefined;
  let wake: (() => void) | undefined;
  // A live subscription waits once per delivery: one timer, re-armed with
  // refresh(), and one abort listener serve every wait until detach, instead
  // of a setTimeout and an add/removeEventListener each time. A wait that ends
  // early leaves the timer armed; firing with no one waiting, it does nothing.
  let timer: NodeJS.Timeout | undefined;
  let timerMs = 0;
  let listening = false;

  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const setWake = (resolve: () => void) => {
    wake = resolve;
  };

  const drop = () => {
    chunks = [];
    head = 0;
    size = 0;
  };

  const listener = (events: readonly Event[]) => {
    if (remove === undefined) return;
    let kept: Event[] | undefined;
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      if (!inScope(event)) continue;
      highWater = coordinate(event);
      if (accept !== undefined && !accept(event)) continue;
      (kept ??= []).push(event);
    }
    if (kept === undefined) return;
    if (size + kept.length > capacity) {
      // Overflow: forget everything and stop listening. The subscription
      // catches up from the store, which holds all of it anyway.
      feed.detach();
      overflowed = true;
      notify();
      return;
    }
    chunks.push(kept);
    size += kept.length;
    notify();
  };

  const feed: LiveFeed = {
    get attached() {
      return remove !== undefined;
    },
    get overflowed() {
      return overflowed;
    },
    get highWater() {
      return highWater;
    },
    get size() {
      return size;
    },
    attach() {
      if (remove !== undefined) return;
      drop();
      overflowed = false;
      highWater = 0n;
      remove = store.onAppend(listener);
    },
    detach() {
      const r = remove;
      remove = undefined;
      drop();
      r?.();
      if (timer !== undefined) {
        clearTimeout(timer);
        timer = undefined;
      }
      if (listening) {
        signal.removeEventListener("abort", notify);
        listening = false;
      }
    },
    take(max) {
      if (size === 0) return [];
      const first = chunks[0]!;
      if (head === 0 && first.length <= max && (first.length === size || first.length + chunks[1]!.length > max)) {
        // The common case: hand over a whole chunk without copying. Chunks that
        // waited together (a subscriber behind by several appends) are joined
        // below instead, so that it catches up in fewer, larger messages.
        chunks.shift();
        size -= first.length;
        return first;
      }
      const out: Event[] = [];
      while (out.length < max && chunks.length > 0) {
        const chunk = chunks[0]!;
        const n = Math.min(chunk.length - head, max - out.length);
        for (let i = 0; i < n; i++) out.push(chunk[head + i]!);
        head += n;
        if (head === chunk.length) {
          chunks.shift();
          head = 0;
        }
      }
      size -= out.length;
      return out;
    },
    wait(timeoutMs) {
      if (size > 0 || overflowed || signal.aborted) return Promise.resolve();
      const ms = Math.max(0, timeoutMs);
      if (timer !== undefined && ms === timerMs) timer.refresh();
      else {
        if (timer !== undefined) clearTimeout(timer);
        timer = setTimeout(notify, ms);
        timerMs = ms;
      }
      if (!listening) {
        signal.addEventListener("abort", notify);
        listening = true;
      }
      notify(); // an earlier wait still pending ends now rather than never
      return new Promise<void>(setWake);
    },
  };
  return feed;
}
