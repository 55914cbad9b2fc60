// The SQL the store runs, built once per schema. Values are always parameters
// ($1, $2, …); only the quoted schema name and, for reads, the presence of each
// filter shape the text.
import { createHash } from "node:crypto";
import type { EventFilter } from "../event-store.js";
import type { PositionMode } from "./options.js";

/**
 * A statement PostgreSQL parses and plans once per connection (a named prepared
 * statement in pg: `client.query({ name, text, values })`). The name is derived from
 * the text, so two stores on different schemas sharing a connection could not clash.
 */
export interface Prepared {
  readonly name: string;
  readonly text: string;
}

function prepared(text: string): Prepared {
  return { name: `runlog_${createHash("sha1").update(text).digest("hex").slice(0, 20)}`, text };
}

export interface Queries {
  /** An append's read: $1 the runs (rows kind 'r'), $2 the client IDs (stored events, kind 'e'). */
  readonly readForAppend: Prepared;
  /** An append's write: append_events() with its 23 parameters (migration 3). */
  readonly appendEvents: Prepared;
  /** One row: head (the last position readers may see) and committed (the last committed position). */
  readonly heads: Prepared;
  readonly lastSequence: Prepared;
  readonly latestSnapshot: string;
  readonly saveSnapshot: string;
  readLog(filter: EventFilter | undefined): ReadQuery;
  load(filter: EventFilter | undefined): ReadQuery;
  listRuns(shape: { prefix: boolean; workflows: boolean; statuses: boolean }): string;
}

/** A read's SQL and the parameters its filter needs, after the fixed ones. */
export interface ReadQuery {
  readonly text: string;
  /** Set for the unfiltered read, the common one: prepared once per connection. */
  readonly name?: string;
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

  const noFilter = { sql: "", params: [] as unknown[] };
  const readLogText = (f: { sql: string }) => {
    // least() ignores NULL: no bound.
    const upper = "least(h.head, $2::bigint)";
    return `SELECT h.head, h.committed, x.position, x.payload
               FROM (SELECT ${headExpr} AS head, ${committedExpr} AS committed) AS h
               LEFT JOIN LATERAL (
                 SELECT e.position, e.payload FROM ${s}.events AS e
                 WHERE e.position > $1::bigint AND e.position <= ${upper}${f.sql}
                 ORDER BY e.position LIMIT $3
               ) AS x ON true
               ORDER BY x.position`;
  };
  // A run's page comes back as few rows: the events in chunks of about 1 MiB of payload
  // (by the running total of payload bytes), each chunk one bytea of
  // [position int8][length int4][payload] … in sequence order (loadChunks() in
  // postgres-event-store.ts cuts it up). A row per event cost node more than decoding the
  // events: a DataRow, a row object, three fields as strings and a hex bytea each
  // (bench/OPTIMISATIONS.md). The chunks bound what one value holds (≈ 1 MiB plus one event).
  const loadText = (f: { sql: string }) =>
    `SELECT r.last_sequence, c.chunk
               FROM (SELECT coalesce((SELECT last_sequence FROM ${s}.runs WHERE run_id = $1), 0) AS last_sequence) AS r
               LEFT JOIN LATERAL (
                 SELECT x.part,
                        string_agg(int8send(x.position) || int4send(length(x.payload)) || x.payload, ''::bytea ORDER BY x.sequence) AS chunk
                 FROM (
                   SELECT e.sequence, e.position, e.payload, sum(length(e.payload)) OVER (ORDER BY e.sequence) / 1048576 AS part
                   FROM (
                     SELECT e.sequence, e.position, e.payload FROM ${s}.events AS e
                     WHERE e.run_id = $1 AND e.sequence > $2::bigint${f.sql}
                     ORDER BY e.sequence LIMIT $3
                   ) AS e
                 ) AS x
                 GROUP BY x.part
               ) AS c ON true
               ORDER BY c.part`;
  const readLogAll = prepared(readLogText(noFilter));
  const loadAll = prepared(loadText(noFilter));
  const hasFilter = (filter: EventFilter | undefined, withRunFilters: boolean) =>
    !!(filter?.types?.length || filter?.stepNames?.length || (withRunFilters && (filter?.runIdPrefix || filter?.workflowNames?.length)));

  return {
    readForAppend: prepared(`SELECT 'r' AS kind, run_id, last_sequence AS sequence, workflow_name, workflow_started, status,
                           waiting_signals, NULL::bigint AS position, NULL::bytea AS payload
                    FROM ${s}.runs WHERE run_id = ANY ($1::text[])
                    UNION ALL
                    SELECT 'e', run_id, sequence, NULL, NULL, NULL, NULL, position, payload
                    FROM ${s}.events WHERE id = ANY ($2::uuid[])`),
    appendEvents: prepared(`SELECT ${s}.append_events(
                     $1::boolean, $2::text[], $3::bigint[], $4::text[], $5::bigint[], $6::uuid[],
                     $7::text[], $8::bigint[], $9::uuid[], $10::smallint[], $11::text[], $12::bytea[],
                     $13::bigint[], $14::text[], $15::boolean[], $16::smallint[], $17::integer[],
                     $18::bigint[], $19::integer[], $20::bigint[], $21::integer[], $22::text, $23::text) AS base`),
    heads: prepared(`SELECT ${headExpr} AS head, ${committedExpr} AS committed`),
    lastSequence: prepared(`SELECT last_sequence FROM ${s}.runs WHERE run_id = $1`),
    latestSnapshot: `SELECT sequence, state FROM ${s}.snapshots
                     WHERE run_id = $1 AND reducer_version = $2 AND sequence <= $3
                     ORDER BY sequence DESC LIMIT 1`,
    saveSnapshot: `INSERT INTO ${s}.snapshots (run_id, reducer_version, sequence, state) VALUES ($1, $2, $3, $4)
                   ON CONFLICT (run_id, reducer_version, sequence) DO UPDATE SET state = EXCLUDED.state, saved_at = now()`,
    // $1 after, $2 upper bound (NULL: none), $3 limit + 1. Rows carry head and committed
    // (one row with NULL position when no event matches), all from one snapshot.
    readLog(filter) {
      if (!hasFilter(filter, true)) return { ...readLogAll, filterParams: [] };
      const f = filterClauses(filter, 4, true);
      return { text: readLogText(f), filterParams: f.params };
    },
    // $1 run, $2 after sequence, $3 limit + 1. Rows carry the run's last sequence.
    load(filter) {
      if (!hasFilter(filter, false)) return { ...loadAll, filterParams: [] };
      const f = filterClauses(filter, 4, false);
      return { text: loadText(f), filterParams: f.params };
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
