// The PostgreSQL store's change feed (EventStore.onAppend), shared by every
// listener of one store instance.
//
// Data path: the feed keeps a cursor (the last position it delivered, or passed
// while nobody listened) and reads the log after it, by position, through the
// same gated read as readLog, so it sees exactly the final prefix of the log:
// in position order, every event once, no gap — whichever server wrote it.
//
// Wake-ups only tell it to read again:
// - a commit on this instance (direct call);
// - NOTIFY on the channel from any instance (a dedicated LISTEN connection that
//   reconnects with backoff, and reads again once reconnected);
// - a slow poll, in case a notification was lost (e.g. while reconnecting, or a
//   server died between its commit and its NOTIFY);
// - in xid-gated mode, a short retry while committed events wait behind a
//   transaction still running.
// At most one read runs at a time; wake-ups during a read cause one more read.
import { Client } from "pg";
import type { Event } from "../../../gen/runlog/v1/event_pb.js";
import type { Logger } from "../../logger.js";
import type { AppendListener } from "../event-store.js";
import { quoteIdentifier } from "./identifiers.js";

export interface FeedPage {
  readonly events: readonly Event[];
  /** Read again after this position. */
  readonly next: bigint;
  readonly hasMore: boolean;
  /** Committed events exist beyond what readers may see yet (xid-gated mode). */
  readonly lagging: boolean;
}

export interface ChangeFeedOptions {
  readonly connectionString: string;
  readonly applicationName: string;
  readonly connectTimeoutMs: number;
  readonly channel: string;
  /** Notifications whose payload starts with this came from this instance and are ignored. */
  readonly ownPrefix: string;
  readonly pollIntervalMs: number;
  readonly pageSize: number;
  readonly logger: Logger;
  /** Reads final events after a position. */
  readonly read: (after: bigint, limit: number) => Promise<FeedPage>;
  /** The last final position. */
  readonly head: () => Promise<{ head: bigint; lagging: boolean }>;
}

export interface ChangeFeed {
  /** Sets the cursor to the current head and connects the LISTEN connection. */
  start(): Promise<void>;
  add(listener: AppendListener): () => void;
  /**
   * An append through this instance committed positions first..last: read again, and
   * do not give these to listeners added from now on (they were committed before).
   */
  committed(first: bigint, last: bigint): void;
  /** Read again soon. */
  wake(): void;
  /** Whether the LISTEN connection is up. */
  readonly listening: boolean;
  close(): Promise<void>;
}

const minBackoffMs = 100;
const maxBackoffMs = 5_000;
const gateRetryMinMs = 2;
const gateRetryMaxMs = 100;
/**
 * Nobody listens: a local commit moves the idle cursor to the head at most this much
 * later (one head read for all the commits meanwhile, instead of one per commit). The
 * appends acknowledged meanwhile are kept in `acked`, so a listener added in between
 * still never gets them.
 */
const idleAdvanceMs = 50;
/** …or at once when this many acknowledged ranges wait for the cursor. */
const maxIdleAcked = 1_000;

/** Positions first..last, inclusive. */
interface Range {
  readonly first: bigint;
  readonly last: bigint;
}

interface Entry {
  readonly listener: AppendListener;
  /**
   * Positions this listener must not get: appends through this instance acknowledged
   * before it was added, not yet passed by the cursor. Other instances' events
   * committed before the listener was added may still reach it (the contract allows
   * it); the idle cursor keeps those few.
   */
  exclude: Range[];
}

export function createChangeFeed(options: ChangeFeedOptions): ChangeFeed {
  const { logger } = options;
  const listeners = new Set<Entry>();
  /** Local commits above the cursor (see Entry.exclude). */
  let acked: Range[] = [];
  /** Bumped by add(): an idle head read that started before an add must not move the cursor. */
  let generation = 0;
  let cursor = 0n;
  let closed = false;

  let reading: Promise<void> | undefined;
  let readAgain = false;
  let readFailures = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  let gateDelayMs = gateRetryMinMs;
  let pollTimer: NodeJS.Timeout | undefined;
  let idleTimer: NodeJS.Timeout | undefined;

  let listenClient: Client | undefined;
  let listenConnecting: Promise<void> | undefined;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let reconnectFailures = 0;

  function wake(): void {
    if (closed) return;
    if (reading !== undefined) {
      readAgain = true;
      return;
    }
    reading = readLoop().finally(() => {
      reading = undefined;
    });
  }

  async function readLoop(): Promise<void> {
    try {
      do {
        readAgain = false;
        const lagging = listeners.size === 0 ? await advanceIdle() : await readAndDeliver();
        if (lagging && !readAgain) {
          scheduleRetry(gateDelayMs);
          gateDelayMs = Math.min(gateDelayMs * 2, gateRetryMaxMs);
        } else {
          gateDelayMs = gateRetryMinMs;
        }
      } while (readAgain && !closed);
      readFailures = 0;
    } catch (error) {
      if (closed) return;
      readFailures++;
      const delay = backoff(readFailures);
      logger.warn({ err: error, retryInMs: delay }, "postgres change feed: reading the log failed");
      scheduleRetry(delay);
    }
  }

  /** Nobody listens: only move the cursor to the head, so that a new listener starts from "now". */
  async function advanceIdle(): Promise<boolean> {
    const started = generation;
    const { head, lagging } = await options.head();
    if (generation === started && listeners.size === 0 && head > cursor) advanceTo(head);
    else if (generation !== started) readAgain = true;
    return lagging;
  }

  async function readAndDeliver(): Promise<boolean> {
    for (;;) {
      const page = await options.read(cursor, options.pageSize);
      if (closed) return false;
      const fresh = page.events.filter((e) => e.position > cursor);
      if (page.next > cursor) advanceTo(page.next);
      if (fresh.length > 0) deliver(fresh);
      if (!page.hasMore) return page.lagging;
    }
  }

  function advanceTo(position: bigint): void {
    cursor = position;
    if (acked.length > 0) acked = acked.filter((r) => r.last > cursor);
  }

  function deliver(events: readonly Event[]): void {
    for (const entry of [...listeners]) {
      if (!listeners.has(entry)) continue;
      let given = events;
      if (entry.exclude.length > 0) {
        const exclude = entry.exclude;
        given = events.filter((e) => !exclude.some((r) => e.position >= r.first && e.position <= r.last));
        entry.exclude = exclude.filter((r) => r.last > cursor);
        if (given.length === 0) continue;
      }
      try {
        entry.listener(given);
      } catch (error) {
        logger.warn({ err: error }, "postgres change feed: a listener threw");
      }
    }
  }

  function scheduleRetry(delayMs: number): void {
    if (closed || retryTimer !== undefined) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      wake();
    }, delayMs);
  }

  function schedulePoll(): void {
    if (closed) return;
    pollTimer = setTimeout(() => {
      pollTimer = undefined;
      wake();
      schedulePoll();
    }, options.pollIntervalMs);
    pollTimer.unref();
  }

  async function connectListener(): Promise<void> {
    const client = new Client({
      connectionString: options.connectionString,
      application_name: options.applicationName,
      connectionTimeoutMillis: options.connectTimeoutMs,
      keepAlive: true,
    });
    let dropped = false;
    const drop = (error: unknown) => {
      if (dropped) return;
      dropped = true;
      if (listenClient === client) listenClient = undefined;
      client.end().catch(() => undefined);
      if (closed) return;
      logger.warn({ err: error }, "postgres change feed: LISTEN connection lost");
      scheduleReconnect();
    };
    client.on("error", drop);
    client.on("end", () => drop(new Error("connection ended")));
    client.on("notification", (message) => {
      if (message.channel !== options.channel) return;
      if (message.payload !== undefined && message.payload.startsWith(options.ownPrefix)) return;
      wake();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${quoteIdentifier(options.channel)}`);
    } catch (error) {
      dropped = true;
      client.removeAllListeners("end");
      client.on("error", () => undefined);
      await client.end().catch(() => undefined);
      throw error;
    }
    if (closed) {
      dropped = true;
      await client.end().catch(() => undefined);
      return;
    }
    listenClient = client;
    reconnectFailures = 0;
  }

  function scheduleReconnect(): void {
    if (closed || reconnectTimer !== undefined || listenConnecting !== undefined) return;
    reconnectFailures++;
    const delay = backoff(reconnectFailures);
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      listenConnecting = connectListener()
        .then(
          // Reconnected: anything committed meanwhile was not announced to us.
          () => wake(),
          (error: unknown) => {
            if (closed) return;
            logger.warn({ err: error, attempt: reconnectFailures }, "postgres change feed: LISTEN reconnect failed");
            listenConnecting = undefined;
            scheduleReconnect();
          },
        )
        .finally(() => {
          listenConnecting = undefined;
        });
    }, delay);
  }

  return {
    async start() {
      cursor = (await options.head()).head;
      await connectListener();
      schedulePoll();
    },
    add(listener) {
      generation++;
      const entry: Entry = { listener, exclude: acked.filter((r) => r.last > cursor) };
      listeners.add(entry);
      return () => {
        listeners.delete(entry);
      };
    },
    committed(first, last) {
      if (last > cursor) {
        const previous = acked[acked.length - 1];
        if (previous !== undefined && previous.last + 1n === first) acked[acked.length - 1] = { first: previous.first, last };
        else acked.push({ first, last });
      }
      if (listeners.size > 0 || acked.length > maxIdleAcked) {
        wake();
      } else if (idleTimer === undefined && !closed) {
        idleTimer = setTimeout(() => {
          idleTimer = undefined;
          wake();
        }, idleAdvanceMs);
        idleTimer.unref();
      }
    },
    wake,
    get listening() {
      return listenClient !== undefined;
    },
    async close() {
      if (closed) return;
      closed = true;
      listeners.clear();
      acked = [];
      for (const timer of [retryTimer, pollTimer, reconnectTimer, idleTimer]) if (timer !== undefined) clearTimeout(timer);
      retryTimer = pollTimer = reconnectTimer = idleTimer = undefined;
      await listenConnecting?.catch(() => undefined);
      const client = listenClient;
      listenClient = undefined;
      if (client !== undefined) {
        client.removeAllListeners("end");
        client.on("error", () => undefined);
        await client.end().catch(() => undefined);
      }
      await reading;
    },
  };
}

function backoff(failures: number): number {
  return Math.min(minBackoffMs * 2 ** Math.max(0, failures - 1), maxBackoffMs);
}
