// PostgreSQL EventStore: durable, and shared by any number of runlog servers on one
// database, which then behave as one store (ARCHITECTURE §7, adr/0003, adr/0005).
//
// - Appends (append-transaction.ts): read, decide with the shared rules, then one
//   statement that is the whole transaction (all or nothing, across runs). The
//   database enforces what concurrent servers could break: the batch's runs are
//   locked and checked unchanged since the read, unique (run_id, sequence), unique
//   event id. A concurrent writer that wins a race makes ours start over, so the
//   loser gets the answer it would have got had it come second: a
//   ConcurrencyConflictError with the actual sequence, a duplicate, or an
//   EventIdConflictError. Never a raw driver error.
// - Global positions never repeat and readers never skip one that commits late:
//   see options.ts (PositionMode) and adr/0005.
// - Connection trouble is UnavailableError (retryable); the pool reconnects by
//   itself and the change feed's LISTEN connection reconnects with backoff.
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { TimestampSchema, type Timestamp } from "@bufbuild/protobuf/wkt";
import { Client, Pool, type PoolClient } from "pg";
import type { Event } from "../../../gen/runlog/v1/event_pb.js";
import type { RunStatus } from "../../../gen/runlog/v1/run_state_pb.js";
import { RunlogError, UnavailableError } from "../../errors.js";
import { validateRunId } from "../../events/validate.js";
import type {
  AppendOptions,
  AppendResult,
  EventFilter,
  EventStore,
  ListRunsOptions,
  ListRunsResult,
  LoadOptions,
  LoadResult,
  ReadLogOptions,
  ReadLogResult,
  RunSummary,
} from "../event-store.js";
import { decodeRunPageToken, encodeRunPageToken, nonNegative, pageLimit, runPageSize } from "../paging.js";
import { prepareBatch } from "../prepare.js";
import { appendAttempt, RaceError, type AppendIo, type ReadRow } from "./append-transaction.js";
import { createChangeFeed, type FeedPage } from "./change-feed.js";
import { decodeEvent, toBigInt } from "./event-codec.js";
import { quoteIdentifier } from "./identifiers.js";
import { migrate } from "./migrate.js";
import { compilePostgresOptions, type PositionMode, type PostgresEventStoreOptions } from "./options.js";
import { toStoreError } from "./pg-errors.js";
import { createPostgresSnapshotStore } from "./postgres-snapshot-store.js";
import { createQueries } from "./queries.js";
import { createRunCache } from "./run-cache.js";
import { createWriteCombiner } from "./write-combiner.js";

export type { PositionMode, PostgresEventStoreOptions } from "./options.js";

export interface PostgresEventStore extends EventStore {
  /** Resolves when the database answers; UnavailableError otherwise (readiness). */
  ping(): Promise<void>;
  /** The position mode of the schema. */
  readonly positions: PositionMode;
  /** Whether the change feed's LISTEN connection is up (it reconnects by itself). */
  readonly listening: boolean;
}

/** Attempts when concurrent writers keep winning races on the same runs (each round, one of them wins). */
const maxAppendAttempts = 100;
/** Rows the change feed reads per query. */
const feedPageSize = 1_000;
/** Runs whose state an instance keeps to append without reading first (run-cache.ts). */
const runCacheSize = 10_000;
/**
 * Group writes (write-combiner.ts) running at the same time, at most (and fewer than the
 * pool): two, so that the next group is prepared and sent while one commits. With one,
 * concurrent writers fall into lockstep (all in one group, node and PostgreSQL taking
 * turns): batches of 1,000 lost a third of their throughput in serialized mode
 * (bench/OPTIMISATIONS.md).
 */
const maxWritesInFlight = 2;

/** Connects, migrates (unless told not to), starts the change feed. */
export async function createPostgresEventStore(options: PostgresEventStoreOptions): Promise<PostgresEventStore> {
  const config = compilePostgresOptions(options);
  const { limits, logger } = config;
  const gated = config.positions === "xid-gated";
  const s = quoteIdentifier(config.schema);
  const queries = createQueries(s, config.positions);
  const runCache = createRunCache(runCacheSize);
  const instanceId = randomUUID();
  const notifyPrefix = `${instanceId}:`;
  const inTransactionNotify = config.notifyInTransaction ? { channel: config.notifyChannel, prefix: notifyPrefix } : undefined;

  await setUp();

  const pool = new Pool({
    connectionString: config.connectionString,
    max: config.poolSize,
    application_name: config.applicationName,
    connectionTimeoutMillis: config.connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
  });
  // An idle connection that dies (database restart, pg_terminate_backend) is
  // reported here; the pool drops it and opens a new one when needed.
  pool.on("error", (error) => logger.warn({ err: error }, "postgres: an idle pooled connection failed"));

  let closed = false;
  const assertOpen = () => {
    if (closed) throw new UnavailableError("the event store is closed");
  };

  // NOTIFY after commit, coalesced: at most one in flight, and at most one per
  // notifyIntervalMs — the first of a quiet period at once, later ones for all the
  // commits meanwhile. It is only a wake-up; the data is read by position.
  let notifying: Promise<void> | undefined;
  let notifyAgain = false;
  let notifyHead = 0n;
  let lastNotifyAt = -Infinity;
  /** Ends the wait between two NOTIFYs early: close() must not wait out notifyIntervalMs. */
  let wakeNotifier: (() => void) | undefined;
  function publish(lastPosition: bigint): void {
    if (lastPosition > notifyHead) notifyHead = lastPosition;
    if (notifying !== undefined) {
      notifyAgain = true;
      return;
    }
    notifying = (async () => {
      do {
        const wait = lastNotifyAt + config.notifyIntervalMs - performance.now();
        if (wait > 0) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, wait);
            wakeNotifier = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          wakeNotifier = undefined;
        }
        if (closed) break;
        notifyAgain = false;
        lastNotifyAt = performance.now();
        try {
          // A NOTIFY makes its transaction take an xid and commit like a write; a wake-up
          // needs no durability, so it does not wait for the WAL flush.
          await pool.query({
            name: "runlog_notify",
            text: "SELECT set_config('synchronous_commit', 'off', true), pg_notify($1, $2)",
            values: [config.notifyChannel, `${notifyPrefix}${notifyHead}`],
          });
        } catch (error) {
          if (!closed) logger.warn({ err: error }, "postgres: NOTIFY failed; other servers will see the events at their next poll");
          break;
        }
      } while (notifyAgain && !closed);
    })().finally(() => {
      notifying = undefined;
    });
  }

  const feed = createChangeFeed({
    connectionString: config.connectionString,
    applicationName: config.applicationName,
    connectTimeoutMs: config.connectTimeoutMs,
    channel: config.notifyChannel,
    ownPrefix: notifyPrefix,
    pollIntervalMs: config.pollIntervalMs,
    pageSize: Math.min(feedPageSize, limits.maxPageEvents),
    logger,
    read: async (after, limit): Promise<FeedPage> => {
      const page = await readLogPage(after, undefined, limit, undefined, false);
      return { events: page.events, next: page.nextAfterPosition, hasMore: page.hasMore, lagging: page.lagging };
    },
    head: async () => {
      const { head, committed } = await heads();
      return { head, lagging: committed > head };
    },
  });
  try {
    await feed.start();
  } catch (error) {
    await feed.close();
    await pool.end().catch(() => undefined);
    throw toStoreError(error, "starting the change feed");
  }

  async function setUp(): Promise<void> {
    const client = new Client({
      connectionString: config.connectionString,
      application_name: config.applicationName,
      connectionTimeoutMillis: config.connectTimeoutMs,
    });
    client.on("error", () => undefined);
    try {
      await client.connect();
      if (config.migrate) {
        await migrate(client, config.schema, config.positions);
      } else {
        const found = await client.query<{ value: string }>(
          `SELECT value FROM ${s}.settings WHERE name = 'positions'`,
        );
        const recorded = found.rows[0]?.value;
        if (recorded !== config.positions) {
          throw new Error(`postgres schema ${config.schema} is not migrated for position mode "${config.positions}" (found ${String(recorded)})`);
        }
      }
    } catch (error) {
      throw toStoreError(error, "start-up");
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  // A checked-out connection that dies between two queries emits 'error' with no
  // listener of the pool's on it; the next query fails anyway, so only log it.
  const guarded = new WeakSet<PoolClient>();
  const onClientError = (error: unknown) => logger.warn({ err: error }, "postgres: a pooled connection failed");

  async function connect(): Promise<PoolClient> {
    assertOpen();
    let client: PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw toStoreError(error, "connecting");
    }
    if (!guarded.has(client)) {
      guarded.add(client);
      client.on("error", onClientError);
    }
    return client;
  }

  const combiner = createWriteCombiner({
    connect,
    queries,
    gated,
    notify: inTransactionNotify,
    maxInFlight: Math.max(1, Math.min(maxWritesInFlight, config.poolSize - 1)),
    maxGroupEvents: Math.max(limits.maxBatchEvents, 1),
    maxGroupMembers: 64,
  });
  const appendIo: AppendIo = {
    async read(runIds, clientIds) {
      const result = await pool.query<ReadRow>({
        name: queries.readForAppend.name,
        text: queries.readForAppend.text,
        values: [runIds, clientIds],
      });
      return result.rows;
    },
    write: (params) => combiner.write(params),
  };

  async function append(input: readonly Event[], appendOptions?: AppendOptions): Promise<AppendResult> {
    assertOpen();
    const batch = prepareBatch(input, appendOptions, limits);
    const givenSequences = batch.events.map((e) => e.sequence);
    for (let attempt = 1; ; attempt++) {
      try {
        const outcome = await appendAttempt(appendIo, batch, appendOptions?.expected, runCache);
        if (!outcome.result.duplicate) {
          feed.committed(outcome.result.events[0]!.position, outcome.lastPosition);
          if (inTransactionNotify === undefined) publish(outcome.lastPosition);
        }
        return outcome.result;
      } catch (error) {
        if (error instanceof RaceError) {
          if (attempt >= maxAppendAttempts) {
            throw new UnavailableError("postgres: append kept losing races with concurrent writers; retry it", {
              cause: error.cause,
            });
          }
          batch.events.forEach((e, i) => (e.sequence = givenSequences[i]!));
          await sleep(Math.random() * Math.min(attempt, 10));
          continue;
        }
        if (error instanceof RunlogError) throw error;
        throw toStoreError(error, "append");
      }
    }
  }

  async function heads(): Promise<{ head: bigint; committed: bigint }> {
    const result = await pool.query<{ head: string; committed: string }>({ name: queries.heads.name, text: queries.heads.text });
    const row = result.rows[0]!;
    return { head: toBigInt(row.head), committed: toBigInt(row.committed) };
  }

  /**
   * One page of the log after `after`, up to `to` (0n/undefined: the head readers may
   * see). In xid-gated mode with `waitForOwnWrites`, waits (up to gateWaitMs) until
   * everything committed when the call started is visible, so a caller reads its own
   * acknowledged appends even while other transactions with lower positions commit.
   */
  async function readLogPage(
    after: bigint,
    to: bigint | undefined,
    limit: number,
    filter: EventFilter | undefined,
    waitForOwnWrites: boolean,
  ): Promise<ReadLogResult & { lagging: boolean }> {
    const bounded = to !== undefined && to !== 0n;
    const query = queries.readLog(filter);
    const deadline = Date.now() + config.gateWaitMs;
    let target: bigint | undefined;
    let delayMs = 1;
    for (;;) {
      const result = await pool.query<{ head: string; committed: string; position: string | null; payload: Buffer | null }>({
        name: query.name,
        text: query.text,
        values: [after, bounded ? to : null, limit + 1, ...query.filterParams],
      });
      const rows = result.rows;
      const head = toBigInt(rows[0]!.head);
      const committed = toBigInt(rows[0]!.committed);
      target ??= committed;
      const events: Event[] = [];
      for (const row of rows) if (row.position !== null) events.push(decodeEvent(row.payload!, toBigInt(row.position)));
      const hasMore = events.length > limit;
      if (hasMore) events.length = limit;
      const end = bounded && to! < head ? to! : head;
      const settled = !gated || !waitForOwnWrites || head >= target || hasMore || (bounded && to! <= head);
      if (settled || Date.now() >= deadline) {
        return {
          events,
          nextAfterPosition: hasMore ? events[events.length - 1]!.position : end > after ? end : after,
          hasMore,
          headPosition: head,
          lagging: committed > head,
        };
      }
      await sleep(delayMs);
      delayMs = Math.min(delayMs * 2, 20);
    }
  }

  const snapshots = createPostgresSnapshotStore(pool, queries, assertOpen);

  return {
    positions: config.positions,
    get listening() {
      return feed.listening;
    },
    append,

    async load(runId: string, loadOptions?: LoadOptions): Promise<LoadResult> {
      assertOpen();
      validateRunId(runId, "run_id", limits);
      const after = nonNegative(loadOptions?.afterSequence ?? 0n, "after_sequence");
      const limit = pageLimit(loadOptions?.limit, limits);
      const filter = loadOptions?.filter;
      const query = queries.load(filter);
      try {
        const result = await pool.query<{ last_sequence: string; chunk: Buffer | null }>({
          name: query.name,
          text: query.text,
          values: [runId, after, limit + 1, ...query.filterParams],
        });
        const last = toBigInt(result.rows[0]!.last_sequence);
        const events: Event[] = [];
        for (const row of result.rows) if (row.chunk !== null) loadChunk(row.chunk, events, loadOptions?.foldOnly === true);
        const hasMore = events.length > limit;
        if (hasMore) events.length = limit;
        return {
          events,
          nextAfterSequence: hasMore ? events[events.length - 1]!.sequence : last > after ? last : after,
          hasMore,
        };
      } catch (error) {
        throw toStoreError(error, "load");
      }
    },

    async getLastSequence(runId: string): Promise<bigint> {
      assertOpen();
      validateRunId(runId, "run_id", limits);
      try {
        const result = await pool.query<{ last_sequence: string }>({
          name: queries.lastSequence.name,
          text: queries.lastSequence.text,
          values: [runId],
        });
        const row = result.rows[0];
        return row === undefined ? 0n : toBigInt(row.last_sequence);
      } catch (error) {
        throw toStoreError(error, "getLastSequence");
      }
    },

    async readLog(readOptions?: ReadLogOptions): Promise<ReadLogResult> {
      assertOpen();
      const after = nonNegative(readOptions?.afterPosition ?? 0n, "after_position");
      const to = nonNegative(readOptions?.toPosition ?? 0n, "to_position");
      const limit = pageLimit(readOptions?.limit, limits);
      try {
        const { lagging: _lagging, ...page } = await readLogPage(after, to, limit, readOptions?.filter, true);
        return page;
      } catch (error) {
        throw toStoreError(error, "readLog");
      }
    },

    async headPosition(): Promise<bigint> {
      assertOpen();
      try {
        const deadline = Date.now() + config.gateWaitMs;
        let target: bigint | undefined;
        let delayMs = 1;
        for (;;) {
          const { head, committed } = await heads();
          target ??= committed;
          if (head >= target || Date.now() >= deadline) return head;
          await sleep(delayMs);
          delayMs = Math.min(delayMs * 2, 20);
        }
      } catch (error) {
        throw toStoreError(error, "headPosition");
      }
    },

    async listRuns(listOptions?: ListRunsOptions): Promise<ListRunsResult> {
      assertOpen();
      const prefix = listOptions?.runIdPrefix ?? "";
      const workflows = listOptions?.workflowNames?.length ? listOptions.workflowNames : undefined;
      const statuses = listOptions?.statuses?.length ? listOptions.statuses : undefined;
      const pageSize = runPageSize(listOptions?.pageSize, limits);
      const token = listOptions?.pageToken ?? "";
      const afterRunId = token === "" ? "" : decodeRunPageToken(token);
      const params: unknown[] = [afterRunId, pageSize + 1];
      if (prefix !== "") params.push(prefix);
      if (workflows !== undefined) params.push(workflows);
      if (statuses !== undefined) params.push(statuses);
      const text = queries.listRuns({ prefix: prefix !== "", workflows: workflows !== undefined, statuses: statuses !== undefined });
      try {
        const result = await pool.query<RunRow>(text, params);
        const more = result.rows.length > pageSize;
        const runs = result.rows.slice(0, pageSize).map(toSummary);
        const last = runs[runs.length - 1];
        return { runs, nextPageToken: more && last !== undefined ? encodeRunPageToken(last.runId) : "" };
      } catch (error) {
        throw toStoreError(error, "listRuns");
      }
    },

    onAppend(listener) {
      assertOpen();
      return feed.add(listener);
    },

    snapshots,

    async ping(): Promise<void> {
      assertOpen();
      try {
        await pool.query("SELECT 1");
      } catch (error) {
        throw toStoreError(error, "ping");
      }
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await feed.close();
      wakeNotifier?.(); // a NOTIFY waiting for its interval is not sent: other servers poll
      await notifying;
      await pool.end().catch(() => undefined);
    },
  };
}

interface RunRow {
  run_id: string;
  workflow_name: string;
  status: number;
  last_sequence: string;
  first_event_seconds: string | null;
  first_event_nanos: number | null;
  last_event_seconds: string | null;
  last_event_nanos: number | null;
}

function toSummary(row: RunRow): RunSummary {
  return {
    runId: row.run_id,
    workflowName: row.workflow_name,
    status: row.status as RunStatus,
    lastSequence: toBigInt(row.last_sequence),
    firstEventAt: toTimestamp(row.first_event_seconds, row.first_event_nanos),
    lastEventAt: toTimestamp(row.last_event_seconds, row.last_event_nanos),
  };
}

function toTimestamp(seconds: string | null, nanos: number | null): Timestamp | undefined {
  if (seconds === null) return undefined;
  return create(TimestampSchema, { seconds: BigInt(seconds), nanos: nanos ?? 0 });
}

/**
 * Decodes one chunk of a load (queries.ts: [position int8][length int4][payload] …) into
 * `into`. Each payload is copied out first: protobuf-es decodes bytes fields as views of
 * its input, and an event kept by a caller must not hold the whole chunk (a small copy
 * comes from Buffer's pool, as the per-row hex decoding's did).
 */
function loadChunk(chunk: Buffer, into: Event[], foldOnly: boolean): void {
  let at = 0;
  while (at < chunk.length) {
    const position = chunk.readBigInt64BE(at);
    const length = chunk.readInt32BE(at + 8);
    at += 12;
    into.push(decodeEvent(Buffer.from(chunk.subarray(at, at + length)), position, foldOnly));
    at += length;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
