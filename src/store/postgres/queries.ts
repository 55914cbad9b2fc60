// The SQL the store runs, built once per schema. Values are always parameters
// ($1, $2, …); only the quoted schema name and, for reads, the presence of each
// filter shape the text.
import type { EventFilter } from "../event-store.js";
import type { PositionMode } from "./options.js";

export interface Queries {
  /** An append's read: $1 the runs (rows kind 'r'), $2 the client IDs (stored events, kind 'e'). */
  readonly readForAppend: string;
  /** An append's write: append_events() with its 22 parameters. */
  readonly appendEvents: string;
  /** One row: head (the last position readers may see) and committed (the last committed position). */
  readonly heads: string;
  readonly lastSequence: string;
  readonly latestSnapshot: string;
  readonly saveSnapshot: string;
  readLog(filter: EventFilter | undefined): ReadQuery;
  load(filter: EventFilter | undefined): ReadQuery;
  listRuns(shape: { prefix: boolean; workflows: boolean; statuses: boolean }): string;
}

/** A read's SQL and the parameters its filter needs, after the fixed ones. */
export interface ReadQuery {
  readonly text: string;
  readonly filterParams: unknown[];
}

export function createQueries(s: string, positions: PositionMode): Queries {
  const gated = positions === "xid-gated";
  // The head readers may see. Serialized: the counter (committed with the events).
  // xid-gated: the last position written by a transaction older than every one still
  // running; positions follow xid order, so everything at or below it is final. Found
  // through the (tx_id, position) index (migration 2): (tx_id, position) order is position order.
  const headExpr = gated
    ? `coalesce((SELECT e.position FROM ${s}.events AS e WHERE e.tx_id < pg_snapshot_xmin(pg_current_snapshot())
                 ORDER BY e.tx_id DESC, e.position DESC LIMIT 1), 0)`
    : `(SELECT h.position FROM ${s}.log_head AS h WHERE h.singleton)`;
  const committedExpr = gated
    ? `coalesce((SELECT e.position FROM ${s}.events AS e ORDER BY e.position DESC LIMIT 1), 0)`
    : headExpr;

  const filterClauses = (filter: EventFilter | undefined, firstParam: number, withRunFilters: boolean) => {
    const clauses: string[] = [];
    const params: unknown[] = [];
    const next = () => `$${firstParam + params.length}`;
    if (filter?.types?.length) {
      clauses.push(`e.type = ANY (${next()}::smallint[])`);
      params.push(filter.types);
    }
    if (filter?.stepNames?.length) {
      clauses.push(`e.step_name = ANY (${next()}::text[])`);
      params.push(filter.stepNames);
    }
    if (withRunFilters && filter?.runIdPrefix) {
      const p = next();
      clauses.push(`e.run_id >= ${p}::text AND starts_with(e.run_id, ${p}::text)`);
      params.push(filter.runIdPrefix);
    }
    if (withRunFilters && filter?.workflowNames?.length) {
      clauses.push(`EXISTS (SELECT 1 FROM ${s}.runs AS r WHERE r.run_id = e.run_id AND r.workflow_name = ANY (${next()}::text[]))`);
      params.push(filter.workflowNames);
    }
    return { sql: clauses.map((c) => ` AND ${c}`).join(""), params };
  };

  return {
    readForAppend: `SELECT 'r' AS kind, run_id, last_sequence AS sequence, workflow_name, workflow_started, status,
                           waiting_signals, NULL::bigint AS position, NULL::bytea AS payload
                    FROM ${s}.runs WHERE run_id = ANY ($1::text[])
                    UNION ALL
                    SELECT 'e', run_id, sequence, NULL, NULL, NULL, NULL, position, payload
                    FROM ${s}.events WHERE id = ANY ($2::uuid[])`,
    appendEvents: `SELECT ${s}.append_events(
                     $1::boolean, $2::text[], $3::bigint[], $4::text[], $5::bigint[],
                     $6::text[], $7::bigint[], $8::uuid[], $9::smallint[], $10::text[], $11::bytea[],
                     $12::bigint[], $13::text[], $14::boolean[], $15::smallint[], $16::integer[],
                     $17::bigint[], $18::integer[], $19::bigint[], $20::integer[], $21::text, $22::text) AS base`,
    heads: `SELECT ${headExpr} AS head, ${committedExpr} AS committed`,
    lastSequence: `SELECT last_sequence FROM ${s}.runs WHERE run_id = $1`,
    latestSnapshot: `SELECT sequence, state FROM ${s}.snapshots
                     WHERE run_id = $1 AND reducer_version = $2 AND sequence <= $3
                     ORDER BY sequence DESC LIMIT 1`,
    saveSnapshot: `INSERT INTO ${s}.snapshots (run_id, reducer_version, sequence, state) VALUES ($1, $2, $3, $4)
                   ON CONFLICT (run_id, reducer_version, sequence) DO UPDATE SET state = EXCLUDED.state, saved_at = now()`,
    // $1 after, $2 upper bound (NULL: none), $3 limit + 1. Rows carry head and committed
    // (one row with NULL position when no event matches), all from one snapshot.
    readLog(filter) {
      const f = filterClauses(filter, 4, true);
      // least() ignores NULL: no bound.
      const upper = "least(h.head, $2::bigint)";
      return {
        text: `SELECT h.head, h.committed, x.position, x.payload
               FROM (SELECT ${headExpr} AS head, ${committedExpr} AS committed) AS h
               LEFT JOIN LATERAL (
                 SELECT e.position, e.payload FROM ${s}.events AS e
                 WHERE e.position > $1::bigint AND e.position <= ${upper}${f.sql}
                 ORDER BY e.position LIMIT $3
               ) AS x ON true
               ORDER BY x.position`,
        filterParams: f.params,
      };
    },
    // $1 run, $2 after sequence, $3 limit + 1. Rows carry the run's last sequence.
    load(filter) {
      const f = filterClauses(filter, 4, false);
      return {
        text: `SELECT r.last_sequence, x.position, x.payload
               FROM (SELECT coalesce((SELECT last_sequence FROM ${s}.runs WHERE run_id = $1), 0) AS last_sequence) AS r
               LEFT JOIN LATERAL (
                 SELECT e.sequence, e.position, e.payload FROM ${s}.events AS e
                 WHERE e.run_id = $1 AND e.sequence > $2::bigint${f.sql}
                 ORDER BY e.sequence LIMIT $3
               ) AS x ON true
               ORDER BY x.sequence`,
        filterParams: f.params,
      };
    },
    // $1 after run ID ('' for the first page), $2 limit + 1, then the filters present.
    listRuns(shape) {
      const clauses: string[] = [];
      let n = 3;
      if (shape.prefix) {
        clauses.push(`run_id >= $${n} AND starts_with(run_id, $${n})`);
        n++;
      }
      if (shape.workflows) clauses.push(`workflow_name = ANY ($${n++}::text[])`);
      if (shape.statuses) clauses.push(`status = ANY ($${n++}::smallint[])`);
      return `SELECT run_id, workflow_name, status, last_sequence,
                     first_event_seconds, first_event_nanos, last_event_seconds, last_event_nanos
              FROM ${s}.runs
              WHERE last_sequence > 0 AND run_id > $1${clauses.map((c) => ` AND ${c}`).join("")}
              ORDER BY run_id LIMIT $2`;
    },
  };
}
