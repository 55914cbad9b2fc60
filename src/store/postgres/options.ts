// Options of the PostgreSQL store, compiled once: defaults → validation →
// normalized values with their units in the name.
import { defaultLimits, type Limits } from "../../limits.js";
import { silentLogger, type Logger } from "../../logger.js";
import { checkChannelName, checkSchemaName } from "./identifiers.js";

/**
 * How global positions are assigned so that readers never skip an event that
 * commits late with a lower position (docs/adr/0005-postgres-global-positions.md).
 * - "serialized": a one-row counter updated in the append transaction; its row lock,
 *   held to commit, makes commit order position order. Dense positions; readers need no gate.
 * - "xid-gated": positions and the transaction's xid allocated together under a
 *   momentary lock; readers see only rows of transactions older than the oldest one
 *   still running (pg_snapshot_xmin). Writers overlap; readers lag in-flight writes.
 */
export type PositionMode = "serialized" | "xid-gated";

export const positionModes: readonly PositionMode[] = ["serialized", "xid-gated"];

export interface PostgresEventStoreOptions {
  /** postgres://user@host:port/database… (libpq URL; sslmode etc. as pg understands them). */
  readonly connectionString: string;
  /** Input bounds; default defaultLimits. */
  readonly limits?: Limits;
  /** Connections in the pool (one more is used for LISTEN). Default 10. */
  readonly poolSize?: number;
  /** The PostgreSQL schema holding runlog's tables. Default "runlog". */
  readonly schema?: string;
  /** The LISTEN/NOTIFY channel of the change feed. Default "<schema>_events". */
  readonly notifyChannel?: string;
  /** Default "xid-gated" (adr/0005). Every server on one schema must use the same mode. */
  readonly positions?: PositionMode;
  /**
   * NOTIFY inside the append transaction instead of right after it. Inside, a server that
   * dies between commit and NOTIFY cannot lose the wake-up, but PostgreSQL serializes the
   * commits of notifying transactions (a global lock), which costs write throughput
   * (adr/0005). Default false: after commit, coalesced; the poll covers a lost one.
   */
  readonly notifyInTransaction?: boolean;
  /**
   * After-commit NOTIFY: at most one per this many milliseconds (the first after a quiet
   * period goes at once; later ones stand for all the commits meanwhile). Each NOTIFY is a
   * statement, a transaction and a delivery to every listener, which cost a single writer
   * about a third of its CPU when sent after every commit (bench/OPTIMISATIONS.md); under
   * sustained writes other servers are woken up to this much later. 0: after every commit
   * (still at most one in flight). Default 5.
   */
  readonly notifyIntervalMs?: number;
  /** Run the migrations at start-up. Default true. When false, the schema must be current. */
  readonly migrate?: boolean;
  /** The change feed reads the log this often even without a notification (safety net). Default 1000. */
  readonly pollIntervalMs?: number;
  /** Connecting (pool and LISTEN) gives up after this long. Default 5000. */
  readonly connectTimeoutMs?: number;
  /** Shown in pg_stat_activity. Default "runlog". */
  readonly applicationName?: string;
  /**
   * xid-gated mode: how long readLog and headPosition wait for transactions with lower
   * positions that were still committing when the call started, so that a caller sees
   * its own acknowledged appends. Default 1000.
   */
  readonly gateWaitMs?: number;
  /** Where connection trouble and listener failures are reported. Default silent. */
  readonly logger?: Logger;
}

export interface PostgresStoreConfig {
  readonly connectionString: string;
  readonly limits: Limits;
  readonly poolSize: number;
  readonly schema: string;
  readonly notifyChannel: string;
  readonly positions: PositionMode;
  readonly notifyInTransaction: boolean;
  readonly notifyIntervalMs: number;
  readonly migrate: boolean;
  readonly pollIntervalMs: number;
  readonly connectTimeoutMs: number;
  readonly applicationName: string;
  readonly gateWaitMs: number;
  readonly logger: Logger;
}

export function compilePostgresOptions(options: PostgresEventStoreOptions): PostgresStoreConfig {
  if (!/^postgres(ql)?:\/\//.test(options.connectionString)) {
    throw new RangeError("postgres connectionString must be a postgres:// or postgresql:// URL");
  }
  const schema = checkSchemaName(options.schema ?? "runlog", "postgres schema");
  const positions = options.positions ?? "xid-gated";
  if (!positionModes.includes(positions)) {
    throw new RangeError(`postgres positions must be one of ${positionModes.join(", ")}, not ${String(positions)}`);
  }
  return {
    connectionString: options.connectionString,
    limits: options.limits ?? defaultLimits,
    poolSize: positiveInteger(options.poolSize ?? 10, "postgres poolSize"),
    schema,
    notifyChannel: checkChannelName(options.notifyChannel ?? `${schema}_events`.slice(0, 63), "postgres notifyChannel"),
    positions,
    notifyInTransaction: options.notifyInTransaction ?? false,
    notifyIntervalMs: nonNegativeInteger(options.notifyIntervalMs ?? 5, "postgres notifyIntervalMs"),
    migrate: options.migrate ?? true,
    pollIntervalMs: positiveInteger(options.pollIntervalMs ?? 1000, "postgres pollIntervalMs"),
    connectTimeoutMs: positiveInteger(options.connectTimeoutMs ?? 5000, "postgres connectTimeoutMs"),
    applicationName: options.applicationName ?? "runlog",
    gateWaitMs: nonNegativeInteger(options.gateWaitMs ?? 1000, "postgres gateWaitMs"),
    logger: options.logger ?? silentLogger,
  };
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, not ${value}`);
  return value;
}

function nonNegativeInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer, not ${value}`);
  return value;
}
