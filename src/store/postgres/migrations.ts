// The PostgreSQL schema, as numbered migrations. Each one runs once per schema, in
// order, inside the migration transaction (see migrate.ts); never edit a released
// migration, add the next number instead. `s` is the quoted schema name.
import { positionLockKey } from "./lock-keys.js";

export interface Migration {
  /** 1, 2, 3, … — the order they run in and the key in schema_migrations. */
  readonly version: number;
  readonly name: string;
  /** The statements, for the schema whose quoted name is `s`. */
  readonly sql: (s: string, schema: string) => string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: "events, runs, snapshots, positions",
    sql: (s, schema) => `
-- One row per stored event. payload is the whole runlog.v1.Event (protobuf binary,
-- position 0); the columns beside it are what queries filter and sort on.
CREATE TABLE ${s}.events (
  position    bigint   NOT NULL,
  run_id      text     COLLATE "C" NOT NULL,
  sequence    bigint   NOT NULL,
  id          uuid     NOT NULL,
  type        smallint NOT NULL,
  step_name   text     NOT NULL,
  -- The writing transaction (pg_current_xact_id()): the gate for readers in xid-gated mode.
  tx_id       xid8     NOT NULL,
  stored_at   timestamptz NOT NULL DEFAULT now(),
  payload     bytea    NOT NULL,
  CONSTRAINT events_pkey PRIMARY KEY (position),
  CONSTRAINT events_id_key UNIQUE (id),
  CONSTRAINT events_run_sequence_key UNIQUE (run_id, sequence),
  CONSTRAINT events_position_check CHECK (position >= 1),
  CONSTRAINT events_sequence_check CHECK (sequence >= 1)
);

-- One row per run: the summary ListRuns returns, maintained in the append transaction,
-- and the row an append locks (FOR UPDATE through an upsert) to serialize writers per run.
CREATE TABLE ${s}.runs (
  run_id              text     COLLATE "C" NOT NULL,
  -- From the run's first workflow.started ('' before it; workflow_started says whether there was one).
  workflow_name       text     NOT NULL DEFAULT '',
  workflow_started    boolean  NOT NULL DEFAULT false,
  status              smallint NOT NULL DEFAULT 0,
  waiting_signals     integer  NOT NULL DEFAULT 0,
  last_sequence       bigint   NOT NULL DEFAULT 0,
  first_event_seconds bigint,
  first_event_nanos   integer,
  last_event_seconds  bigint,
  last_event_nanos    integer,
  CONSTRAINT runs_pkey PRIMARY KEY (run_id)
);
CREATE INDEX runs_workflow_name_idx ON ${s}.runs (workflow_name, run_id);

-- Reconstructed states, beside the events and never in a run's sequence.
-- Key order (run, reducer version, sequence) serves "latest at or before N for this reducer".
CREATE TABLE ${s}.snapshots (
  run_id          text    COLLATE "C" NOT NULL,
  reducer_version integer NOT NULL,
  sequence        bigint  NOT NULL,
  state           bytea   NOT NULL,
  saved_at        timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT snapshots_pkey PRIMARY KEY (run_id, reducer_version, sequence)
);

-- Global positions, xid-gated mode: allocated from this sequence under a momentary lock
-- together with the transaction's xid, so that xid order is position order.
CREATE SEQUENCE ${s}.positions AS bigint MINVALUE 1 START 1 NO CYCLE;

-- Global positions, serialized mode: this one row, updated in the append transaction;
-- its row lock, held to commit, serializes position assignment (positions are dense).
CREATE TABLE ${s}.log_head (
  singleton boolean NOT NULL DEFAULT true,
  position  bigint  NOT NULL,
  CONSTRAINT log_head_pkey PRIMARY KEY (singleton),
  CONSTRAINT log_head_singleton_check CHECK (singleton)
);
INSERT INTO ${s}.log_head (singleton, position) VALUES (true, 0);

-- Settings every server on this schema must agree on (the position mode).
CREATE TABLE ${s}.settings (
  name  text NOT NULL,
  value text NOT NULL,
  CONSTRAINT settings_pkey PRIMARY KEY (name)
);

-- The first step of an append, in one round trip:
--  1. xid-gated mode (p_positions > 0): under a momentary advisory lock, assign this
--     transaction's xid and allocate p_positions consecutive positions. The lock makes
--     allocation order equal xid order, which is what lets readers gate on
--     pg_snapshot_xmin. It must be the transaction's first write (checked).
--  2. Lock the batch's runs (upsert, in run_id order: no deadlocks between batches) and
--     return their summaries; read the runs that only carry an expectation (FOR SHARE).
--  3. Return the stored events with the batch's client-chosen IDs (idempotent retries).
-- Rows: kind 'p' (o_position = first allocated position, 0 when none), 'r' (a run),
-- 'e' (a stored event).
CREATE FUNCTION ${s}.begin_append(p_positions integer, p_lock_run_ids text[], p_check_run_ids text[], p_event_ids uuid[])
RETURNS TABLE (
  o_kind "char", o_run_id text, o_sequence bigint, o_workflow_name text, o_status smallint,
  o_waiting_signals integer, o_started boolean, o_position bigint, o_payload bytea
)
LANGUAGE plpgsql AS $fn$
DECLARE
  v_first bigint := 0;
BEGIN
  IF p_positions > 0 THEN
    IF pg_current_xact_id_if_assigned() IS NOT NULL THEN
      RAISE EXCEPTION 'runlog: positions must be allocated before the transaction writes anything';
    END IF;
    PERFORM pg_advisory_lock(${positionLockKey(schema)});
    PERFORM pg_current_xact_id();
    v_first := nextval('${s}.positions');
    IF p_positions > 1 THEN
      PERFORM setval('${s}.positions', v_first + p_positions - 1, true);
    END IF;
    PERFORM pg_advisory_unlock(${positionLockKey(schema)});
  END IF;
  RETURN QUERY SELECT 'p'::"char", NULL::text, NULL::bigint, NULL::text, NULL::smallint, NULL::integer, NULL::boolean, v_first, NULL::bytea;
  RETURN QUERY
    INSERT INTO ${s}.runs AS r (run_id)
    SELECT u.run_id FROM unnest(p_lock_run_ids) AS u(run_id) ORDER BY u.run_id COLLATE "C"
    ON CONFLICT (run_id) DO UPDATE SET run_id = EXCLUDED.run_id
    RETURNING 'r'::"char", r.run_id::text, r.last_sequence, r.workflow_name, r.status, r.waiting_signals, r.workflow_started, NULL::bigint, NULL::bytea;
  IF cardinality(p_check_run_ids) > 0 THEN
    RETURN QUERY
      SELECT 'r'::"char", r.run_id::text, r.last_sequence, r.workflow_name, r.status, r.waiting_signals, r.workflow_started, NULL::bigint, NULL::bytea
      FROM ${s}.runs AS r WHERE r.run_id = ANY (p_check_run_ids) ORDER BY r.run_id FOR SHARE;
  END IF;
  IF cardinality(p_event_ids) > 0 THEN
    RETURN QUERY
      SELECT 'e'::"char", e.run_id::text, e.sequence, NULL::text, NULL::smallint, NULL::integer, NULL::boolean, e.position, e.payload
      FROM ${s}.events AS e WHERE e.id = ANY (p_event_ids);
  END IF;
END
$fn$;
`,
  },
];
