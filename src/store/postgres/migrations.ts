// The PostgreSQL schema, as numbered migrations. Each one runs once per schema, in
// order, inside the migration transaction (see migrate.ts); never edit a released
// migration, add the next number instead. `s` is the quoted schema name.
import { positionLockKey } from "./lock-keys.js";
import type { PositionMode } from "./options.js";

export interface Migration {
  /** 1, 2, 3, … — the order they run in and the key in schema_migrations. */
  readonly version: number;
  readonly name: string;
  /**
   * The statements, for the schema whose quoted name is `s`, made (or being made) with
   * position mode `positions` (migrate.ts records the mode in the same transaction and
   * rolls everything back when the schema's recorded mode is another).
   */
  readonly sql: (s: string, schema: string, positions: PositionMode) => string;
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

-- An append's write: the whole transaction, one statement (autocommit), after the
-- writer has read the runs and decided everything with the shared rules (numbering,
-- expectations, summaries; append-transaction.ts). This function:
--  1. xid-gated mode: under a momentary advisory lock, assigns the transaction's xid
--     and allocates the batch's positions, so that xid order is position order (what
--     lets readers gate on pg_snapshot_xmin). Must be the transaction's first write.
--  2. Locks the batch's runs (upsert, in run_id order: batches never deadlock) and the
--     runs that only carry an expectation (FOR SHARE), and checks that none moved since
--     the writer read them; if one did, raises RLC01 and the writer starts over.
--  3. serialized mode: takes the positions from the log_head counter, whose row lock,
--     held to commit, serializes position assignment.
--  4. Inserts the events, updates the run summaries, NOTIFYs when asked.
-- Returns the position before the batch's first.
CREATE FUNCTION ${s}.append_events(
  p_gated boolean,
  p_run_ids text[], p_seen bigint[],
  p_check_run_ids text[], p_check_seen bigint[],
  p_event_run_ids text[], p_sequences bigint[], p_ids uuid[], p_types smallint[], p_step_names text[], p_payloads bytea[],
  p_last_sequences bigint[], p_workflow_names text[], p_workflow_started boolean[], p_statuses smallint[],
  p_waiting_signals integer[], p_first_seconds bigint[], p_first_nanos integer[], p_last_seconds bigint[], p_last_nanos integer[],
  p_notify_channel text, p_notify_payload_prefix text
) RETURNS bigint
LANGUAGE plpgsql AS $fn$
DECLARE
  v_count integer := cardinality(p_ids);
  v_base bigint;
  v_moved text;
BEGIN
  IF p_gated THEN
    IF pg_current_xact_id_if_assigned() IS NOT NULL THEN
      RAISE EXCEPTION 'runlog: positions must be allocated before the transaction writes anything';
    END IF;
    PERFORM pg_advisory_lock(${positionLockKey(schema)});
    PERFORM pg_current_xact_id();
    v_base := nextval('${s}.positions') - 1;
    IF v_count > 1 THEN
      PERFORM setval('${s}.positions', v_base + v_count, true);
    END IF;
    PERFORM pg_advisory_unlock(${positionLockKey(schema)});
  END IF;

  WITH locked AS (
    INSERT INTO ${s}.runs AS r (run_id)
    SELECT u.run_id FROM unnest(p_run_ids) AS u(run_id) ORDER BY u.run_id COLLATE "C"
    ON CONFLICT (run_id) DO UPDATE SET run_id = EXCLUDED.run_id
    RETURNING r.run_id, r.last_sequence
  )
  SELECT l.run_id INTO v_moved
  FROM locked AS l JOIN unnest(p_run_ids, p_seen) AS u(run_id, seen) ON u.run_id = l.run_id
  WHERE l.last_sequence <> u.seen LIMIT 1;
  IF v_moved IS NULL AND cardinality(p_check_run_ids) > 0 THEN
    SELECT u.run_id INTO v_moved
    FROM unnest(p_check_run_ids, p_check_seen) AS u(run_id, seen)
    LEFT JOIN (
      SELECT r.run_id, r.last_sequence FROM ${s}.runs AS r
      WHERE r.run_id = ANY (p_check_run_ids) ORDER BY r.run_id FOR SHARE
    ) AS c ON c.run_id = u.run_id
    WHERE coalesce(c.last_sequence, 0) <> u.seen LIMIT 1;
  END IF;
  IF v_moved IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'RLC01', MESSAGE = 'runlog: run ' || v_moved || ' changed since it was read';
  END IF;

  IF NOT p_gated THEN
    UPDATE ${s}.log_head SET position = position + v_count WHERE singleton RETURNING position - v_count INTO v_base;
  END IF;

  INSERT INTO ${s}.events (position, run_id, sequence, id, type, step_name, tx_id, payload)
  SELECT v_base + u.ord, u.run_id, u.sequence, u.id, u.type, u.step_name, pg_current_xact_id(), u.payload
  FROM unnest(p_event_run_ids, p_sequences, p_ids, p_types, p_step_names, p_payloads)
    WITH ORDINALITY AS u(run_id, sequence, id, type, step_name, payload, ord);

  UPDATE ${s}.runs AS r SET
    last_sequence = u.last_sequence,
    workflow_name = u.workflow_name,
    workflow_started = u.workflow_started,
    status = u.status,
    waiting_signals = u.waiting_signals,
    first_event_seconds = coalesce(r.first_event_seconds, u.first_seconds),
    first_event_nanos = coalesce(r.first_event_nanos, u.first_nanos),
    last_event_seconds = u.last_seconds,
    last_event_nanos = u.last_nanos
  FROM unnest(p_run_ids, p_last_sequences, p_workflow_names, p_workflow_started, p_statuses, p_waiting_signals,
              p_first_seconds, p_first_nanos, p_last_seconds, p_last_nanos)
    AS u(run_id, last_sequence, workflow_name, workflow_started, status, waiting_signals,
         first_seconds, first_nanos, last_seconds, last_nanos)
  WHERE r.run_id = u.run_id;

  IF p_notify_channel IS NOT NULL THEN
    PERFORM pg_notify(p_notify_channel, p_notify_payload_prefix || (v_base + v_count)::text);
  END IF;
  RETURN v_base;
END
$fn$;
`,
  },
  {
    version: 2,
    name: "index for the xid gate",
    sql: (s) => `
-- The gated head (xid-gated mode) is the last position written by a transaction older than
-- the oldest one running. Positions follow xid order, so that is the last entry of this index
-- below pg_snapshot_xmin: found in O(log n) even when a long transaction elsewhere holds the
-- gate back and many committed rows wait behind it (a backward scan of the primary key would
-- step over all of them on every read).
CREATE INDEX events_tx_id_position_idx ON ${s}.events (tx_id, position);
`,
  },
  {
    version: 3,
    name: "append_events with checks before allocation, one write per run",
    sql: (s, schema) => `
-- An overload of append_events() (migration 1's stays for servers still running the code
-- before this migration). The same transaction and the same guarantees, cheaper:
--  1. Before anything is locked or allocated, checks (plain reads) that no run moved since
--     the writer decided (p_seen; the writer may have decided from the state it cached after
--     its own last append instead of reading) and that none of the client-given IDs
--     (p_client_ids) is stored. Either raises (RLC01, RLC02) and the writer reads and decides
--     again. So a writer that decided from a stale state leaves no gap in xid-gated positions,
--     and an exact retry is still answered from the stored rows.
--  2. xid-gated mode: positions and xid under the momentary advisory lock, as before.
--  3. Locks and writes each run row once: UPDATE … WHERE last_sequence = seen for runs that
--     exist (under the row lock, a concurrent writer's commit is seen and the row skipped),
--     INSERT … ON CONFLICT DO UPDATE … WHERE last_sequence = 0 for new ones; a run that
--     moved meanwhile is not written, and the count tells: RLC01. Multi-run batches lock
--     their existing rows in run_id order first, so batches never deadlock.
--  4. Runs that only carry an expectation: FOR SHARE and checked, as before.
--  5. serialized mode: the log_head counter; then the events, and NOTIFY when asked.
CREATE FUNCTION ${s}.append_events(
  p_gated boolean,
  p_run_ids text[], p_seen bigint[],
  p_check_run_ids text[], p_check_seen bigint[],
  p_client_ids uuid[],
  p_event_run_ids text[], p_sequences bigint[], p_ids uuid[], p_types smallint[], p_step_names text[], p_payloads bytea[],
  p_last_sequences bigint[], p_workflow_names text[], p_workflow_started boolean[], p_statuses smallint[],
  p_waiting_signals integer[], p_first_seconds bigint[], p_first_nanos integer[], p_last_seconds bigint[], p_last_nanos integer[],
  p_notify_channel text, p_notify_payload_prefix text
) RETURNS bigint
LANGUAGE plpgsql AS $fn$
DECLARE
  v_count integer := cardinality(p_ids);
  v_runs integer := cardinality(p_run_ids);
  v_base bigint;
  v_moved text;
  v_written integer;
  v_inserted integer;
BEGIN
  IF p_gated AND pg_current_xact_id_if_assigned() IS NOT NULL THEN
    RAISE EXCEPTION 'runlog: positions must be allocated before the transaction writes anything';
  END IF;

  -- 1. Checks before allocation (no lock: the locked writes below check again). Only
  --    xid-gated mode allocates before locking; in serialized mode the locked checks
  --    come first and a failure rolls the counter back.
  IF p_gated THEN
    SELECT u.run_id INTO v_moved
    FROM unnest(p_run_ids, p_seen) AS u(run_id, seen)
    LEFT JOIN ${s}.runs AS r ON r.run_id = u.run_id
    WHERE coalesce(r.last_sequence, 0) <> u.seen LIMIT 1;
    IF v_moved IS NULL AND cardinality(p_check_run_ids) > 0 THEN
      SELECT u.run_id INTO v_moved
      FROM unnest(p_check_run_ids, p_check_seen) AS u(run_id, seen)
      LEFT JOIN ${s}.runs AS r ON r.run_id = u.run_id
      WHERE coalesce(r.last_sequence, 0) <> u.seen LIMIT 1;
    END IF;
    IF v_moved IS NOT NULL THEN
      RAISE EXCEPTION USING ERRCODE = 'RLC01', MESSAGE = 'runlog: run ' || v_moved || ' changed since it was read';
    END IF;
  END IF;
  IF cardinality(p_client_ids) > 0 AND EXISTS (SELECT 1 FROM ${s}.events AS e WHERE e.id = ANY (p_client_ids)) THEN
    RAISE EXCEPTION USING ERRCODE = 'RLC02', MESSAGE = 'runlog: an event ID of the batch is stored already';
  END IF;

  -- 2. Positions, xid-gated mode.
  IF p_gated THEN
    PERFORM pg_advisory_lock(${positionLockKey(schema)});
    PERFORM pg_current_xact_id();
    v_base := nextval('${s}.positions') - 1;
    IF v_count > 1 THEN
      PERFORM setval('${s}.positions', v_base + v_count, true);
    END IF;
    PERFORM pg_advisory_unlock(${positionLockKey(schema)});
  END IF;

  -- 3. The runs: locked and written once each, only if unmoved.
  IF v_runs > 1 THEN
    PERFORM 1 FROM ${s}.runs AS r WHERE r.run_id = ANY (p_run_ids) ORDER BY r.run_id FOR UPDATE;
  END IF;
  v_written := 0;
  IF 0 < ANY (p_seen) THEN
    UPDATE ${s}.runs AS r SET
      last_sequence = u.last_sequence,
      workflow_name = u.workflow_name,
      workflow_started = u.workflow_started,
      status = u.status,
      waiting_signals = u.waiting_signals,
      first_event_seconds = coalesce(r.first_event_seconds, u.first_seconds),
      first_event_nanos = coalesce(r.first_event_nanos, u.first_nanos),
      last_event_seconds = u.last_seconds,
      last_event_nanos = u.last_nanos
    FROM unnest(p_run_ids, p_seen, p_last_sequences, p_workflow_names, p_workflow_started, p_statuses, p_waiting_signals,
                p_first_seconds, p_first_nanos, p_last_seconds, p_last_nanos)
      AS u(run_id, seen, last_sequence, workflow_name, workflow_started, status, waiting_signals,
           first_seconds, first_nanos, last_seconds, last_nanos)
    WHERE u.seen > 0 AND r.run_id = u.run_id AND r.last_sequence = u.seen;
    GET DIAGNOSTICS v_written = ROW_COUNT;
  END IF;
  IF v_written < v_runs THEN
    INSERT INTO ${s}.runs AS r (run_id, last_sequence, workflow_name, workflow_started, status, waiting_signals,
                                first_event_seconds, first_event_nanos, last_event_seconds, last_event_nanos)
    SELECT u.run_id, u.last_sequence, u.workflow_name, u.workflow_started, u.status, u.waiting_signals,
           u.first_seconds, u.first_nanos, u.last_seconds, u.last_nanos
    FROM unnest(p_run_ids, p_seen, p_last_sequences, p_workflow_names, p_workflow_started, p_statuses, p_waiting_signals,
                p_first_seconds, p_first_nanos, p_last_seconds, p_last_nanos)
      AS u(run_id, seen, last_sequence, workflow_name, workflow_started, status, waiting_signals,
           first_seconds, first_nanos, last_seconds, last_nanos)
    WHERE u.seen = 0
    ORDER BY u.run_id COLLATE "C"
    ON CONFLICT (run_id) DO UPDATE SET
      last_sequence = EXCLUDED.last_sequence,
      workflow_name = EXCLUDED.workflow_name,
      workflow_started = EXCLUDED.workflow_started,
      status = EXCLUDED.status,
      waiting_signals = EXCLUDED.waiting_signals,
      first_event_seconds = coalesce(r.first_event_seconds, EXCLUDED.first_event_seconds),
      first_event_nanos = coalesce(r.first_event_nanos, EXCLUDED.first_event_nanos),
      last_event_seconds = EXCLUDED.last_event_seconds,
      last_event_nanos = EXCLUDED.last_event_nanos
    WHERE r.last_sequence = 0;
    GET DIAGNOSTICS v_inserted = ROW_COUNT;
    IF v_written + v_inserted < v_runs THEN
      RAISE EXCEPTION USING ERRCODE = 'RLC01', MESSAGE = 'runlog: a run of the batch changed since it was read';
    END IF;
  END IF;

  -- 4. Runs that only carry an expectation.
  IF cardinality(p_check_run_ids) > 0 THEN
    SELECT u.run_id INTO v_moved
    FROM unnest(p_check_run_ids, p_check_seen) AS u(run_id, seen)
    LEFT JOIN (
      SELECT r.run_id, r.last_sequence FROM ${s}.runs AS r
      WHERE r.run_id = ANY (p_check_run_ids) ORDER BY r.run_id FOR SHARE
    ) AS c ON c.run_id = u.run_id
    WHERE coalesce(c.last_sequence, 0) <> u.seen LIMIT 1;
    IF v_moved IS NOT NULL THEN
      RAISE EXCEPTION USING ERRCODE = 'RLC01', MESSAGE = 'runlog: run ' || v_moved || ' changed since it was read';
    END IF;
  END IF;

  -- 5. Positions in serialized mode, the events, the wake-up.
  IF NOT p_gated THEN
    UPDATE ${s}.log_head SET position = position + v_count WHERE singleton RETURNING position - v_count INTO v_base;
  END IF;

  INSERT INTO ${s}.events (position, run_id, sequence, id, type, step_name, tx_id, payload)
  SELECT v_base + u.ord, u.run_id, u.sequence, u.id, u.type, u.step_name, pg_current_xact_id(), u.payload
  FROM unnest(p_event_run_ids, p_sequences, p_ids, p_types, p_step_names, p_payloads)
    WITH ORDINALITY AS u(run_id, sequence, id, type, step_name, payload, ord);

  IF p_notify_channel IS NOT NULL THEN
    PERFORM pg_notify(p_notify_channel, p_notify_payload_prefix || (v_base + v_count)::text);
  END IF;
  RETURN v_base;
END
$fn$;
`,
  },
  {
    version: 4,
    name: "append_events with generic plans and a one-run path",
    sql: (s, schema) => `
-- Replaces migration 3's append_events() (same parameters, same checks, same errors, same
-- writes: servers still running migration 3's code get the same function). Cheaper:
--  - SET plan_cache_mode = force_generic_plan: each statement of the body is planned once
--    per connection. With the arrays as parameters, PostgreSQL's default (auto) kept choosing
--    custom plans — a custom plan estimates unnest() of the actual array, so it always looks
--    cheaper than the generic one — and so planned every statement on every call: ~40 % of
--    the function's CPU (bench/OPTIMISATIONS.md).
--  - A batch of one run (every lone append) checks and writes its run row with scalar
--    statements (p_run_ids[1] …) instead of joining unnest() of eleven arrays.
-- Multi-run batches (groups of appends, atomic multi-run batches) take migration 3's path.
CREATE OR REPLACE FUNCTION ${s}.append_events(
  p_gated boolean,
  p_run_ids text[], p_seen bigint[],
  p_check_run_ids text[], p_check_seen bigint[],
  p_client_ids uuid[],
  p_event_run_ids text[], p_sequences bigint[], p_ids uuid[], p_types smallint[], p_step_names text[], p_payloads bytea[],
  p_last_sequences bigint[], p_workflow_names text[], p_workflow_started boolean[], p_statuses smallint[],
  p_waiting_signals integer[], p_first_seconds bigint[], p_first_nanos integer[], p_last_seconds bigint[], p_last_nanos integer[],
  p_notify_channel text, p_notify_payload_prefix text
) RETURNS bigint
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $fn$
DECLARE
  v_count integer := cardinality(p_ids);
  v_runs integer := cardinality(p_run_ids);
  v_base bigint;
  v_moved text;
  v_written integer := 0;
  v_inserted integer := 0;
BEGIN
  IF p_gated AND pg_current_xact_id_if_assigned() IS NOT NULL THEN
    RAISE EXCEPTION 'runlog: positions must be allocated before the transaction writes anything';
  END IF;

  -- 1. Checks before allocation (no lock: the locked writes below check again). Only
  --    xid-gated mode allocates before locking; in serialized mode the locked checks
  --    come first and a failure rolls the counter back.
  IF p_gated THEN
    IF v_runs = 1 THEN
      IF coalesce((SELECT r.last_sequence FROM ${s}.runs AS r WHERE r.run_id = p_run_ids[1]), 0) <> p_seen[1] THEN
        v_moved := p_run_ids[1];
      END IF;
    ELSE
      SELECT u.run_id INTO v_moved
      FROM unnest(p_run_ids, p_seen) AS u(run_id, seen)
      LEFT JOIN ${s}.runs AS r ON r.run_id = u.run_id
      WHERE coalesce(r.last_sequence, 0) <> u.seen LIMIT 1;
    END IF;
    IF v_moved IS NULL AND cardinality(p_check_run_ids) > 0 THEN
      SELECT u.run_id INTO v_moved
      FROM unnest(p_check_run_ids, p_check_seen) AS u(run_id, seen)
      LEFT JOIN ${s}.runs AS r ON r.run_id = u.run_id
      WHERE coalesce(r.last_sequence, 0) <> u.seen LIMIT 1;
    END IF;
    IF v_moved IS NOT NULL THEN
      RAISE EXCEPTION USING ERRCODE = 'RLC01', MESSAGE = 'runlog: run ' || v_moved || ' changed since it was read';
    END IF;
  END IF;
  IF cardinality(p_client_ids) > 0 AND EXISTS (SELECT 1 FROM ${s}.events AS e WHERE e.id = ANY (p_client_ids)) THEN
    RAISE EXCEPTION USING ERRCODE = 'RLC02', MESSAGE = 'runlog: an event ID of the batch is stored already';
  END IF;

  -- 2. Positions, xid-gated mode.
  IF p_gated THEN
    PERFORM pg_advisory_lock(${positionLockKey(schema)});
    PERFORM pg_current_xact_id();
    v_base := nextval('${s}.positions') - 1;
    IF v_count > 1 THEN
      PERFORM setval('${s}.positions', v_base + v_count, true);
    END IF;
    PERFORM pg_advisory_unlock(${positionLockKey(schema)});
  END IF;

  -- 3. The runs: locked and written once each, only if unmoved.
  IF v_runs = 1 THEN
    IF p_seen[1] > 0 THEN
      UPDATE ${s}.runs AS r SET
        last_sequence = p_last_sequences[1],
        workflow_name = p_workflow_names[1],
        workflow_started = p_workflow_started[1],
        status = p_statuses[1],
        waiting_signals = p_waiting_signals[1],
        first_event_seconds = coalesce(r.first_event_seconds, p_first_seconds[1]),
        first_event_nanos = coalesce(r.first_event_nanos, p_first_nanos[1]),
        last_event_seconds = p_last_seconds[1],
        last_event_nanos = p_last_nanos[1]
      WHERE r.run_id = p_run_ids[1] AND r.last_sequence = p_seen[1];
    ELSE
      INSERT INTO ${s}.runs AS r (run_id, last_sequence, workflow_name, workflow_started, status, waiting_signals,
                                  first_event_seconds, first_event_nanos, last_event_seconds, last_event_nanos)
      VALUES (p_run_ids[1], p_last_sequences[1], p_workflow_names[1], p_workflow_started[1], p_statuses[1], p_waiting_signals[1],
              p_first_seconds[1], p_first_nanos[1], p_last_seconds[1], p_last_nanos[1])
      ON CONFLICT (run_id) DO UPDATE SET
        last_sequence = EXCLUDED.last_sequence,
        workflow_name = EXCLUDED.workflow_name,
        workflow_started = EXCLUDED.workflow_started,
        status = EXCLUDED.status,
        waiting_signals = EXCLUDED.waiting_signals,
        first_event_seconds = coalesce(r.first_event_seconds, EXCLUDED.first_event_seconds),
        first_event_nanos = coalesce(r.first_event_nanos, EXCLUDED.first_event_nanos),
        last_event_seconds = EXCLUDED.last_event_seconds,
        last_event_nanos = EXCLUDED.last_event_nanos
      WHERE r.last_sequence = 0;
    END IF;
    GET DIAGNOSTICS v_written = ROW_COUNT;
    IF v_written < 1 THEN
      RAISE EXCEPTION USING ERRCODE = 'RLC01', MESSAGE = 'runlog: run ' || p_run_ids[1] || ' changed since it was read';
    END IF;
  ELSE
    PERFORM 1 FROM ${s}.runs AS r WHERE r.run_id = ANY (p_run_ids) ORDER BY r.run_id FOR UPDATE;
    IF 0 < ANY (p_seen) THEN
      UPDATE ${s}.runs AS r SET
        last_sequence = u.last_sequence,
        workflow_name = u.workflow_name,
        workflow_started = u.workflow_started,
        status = u.status,
        waiting_signals = u.waiting_signals,
        first_event_seconds = coalesce(r.first_event_seconds, u.first_seconds),
        first_event_nanos = coalesce(r.first_event_nanos, u.first_nanos),
        last_event_seconds = u.last_seconds,
        last_event_nanos = u.last_nanos
      FROM unnest(p_run_ids, p_seen, p_last_sequences, p_workflow_names, p_workflow_started, p_statuses, p_waiting_signals,
                  p_first_seconds, p_first_nanos, p_last_seconds, p_last_nanos)
        AS u(run_id, seen, last_sequence, workflow_name, workflow_started, status, waiting_signals,
             first_seconds, first_nanos, last_seconds, last_nanos)
      WHERE u.seen > 0 AND r.run_id = u.run_id AND r.last_sequence = u.seen;
      GET DIAGNOSTICS v_written = ROW_COUNT;
    END IF;
    IF v_written < v_runs THEN
      INSERT INTO ${s}.runs AS r (run_id, last_sequence, workflow_name, workflow_started, status, waiting_signals,
                                  first_event_seconds, first_event_nanos, last_event_seconds, last_event_nanos)
      SELECT u.run_id, u.last_sequence, u.workflow_name, u.workflow_started, u.status, u.waiting_signals,
             u.first_seconds, u.first_nanos, u.last_seconds, u.last_nanos
      FROM unnest(p_run_ids, p_seen, p_last_sequences, p_workflow_names, p_workflow_started, p_statuses, p_waiting_signals,
                  p_first_seconds, p_first_nanos, p_last_seconds, p_last_nanos)
        AS u(run_id, seen, last_sequence, workflow_name, workflow_started, status, waiting_signals,
             first_seconds, first_nanos, last_seconds, last_nanos)
      WHERE u.seen = 0
      ORDER BY u.run_id COLLATE "C"
      ON CONFLICT (run_id) DO UPDATE SET
        last_sequence = EXCLUDED.last_sequence,
        workflow_name = EXCLUDED.workflow_name,
        workflow_started = EXCLUDED.workflow_started,
        status = EXCLUDED.status,
        waiting_signals = EXCLUDED.waiting_signals,
        first_event_seconds = coalesce(r.first_event_seconds, EXCLUDED.first_event_seconds),
        first_event_nanos = coalesce(r.first_event_nanos, EXCLUDED.first_event_nanos),
        last_event_seconds = EXCLUDED.last_event_seconds,
        last_event_nanos = EXCLUDED.last_event_nanos
      WHERE r.last_sequence = 0;
      GET DIAGNOSTICS v_inserted = ROW_COUNT;
      IF v_written + v_inserted < v_runs THEN
        RAISE EXCEPTION USING ERRCODE = 'RLC01', MESSAGE = 'runlog: a run of the batch changed since it was read';
      END IF;
    END IF;
  END IF;

  -- 4. Runs that only carry an expectation.
  IF cardinality(p_check_run_ids) > 0 THEN
    SELECT u.run_id INTO v_moved
    FROM unnest(p_check_run_ids, p_check_seen) AS u(run_id, seen)
    LEFT JOIN (
      SELECT r.run_id, r.last_sequence FROM ${s}.runs AS r
      WHERE r.run_id = ANY (p_check_run_ids) ORDER BY r.run_id FOR SHARE
    ) AS c ON c.run_id = u.run_id
    WHERE coalesce(c.last_sequence, 0) <> u.seen LIMIT 1;
    IF v_moved IS NOT NULL THEN
      RAISE EXCEPTION USING ERRCODE = 'RLC01', MESSAGE = 'runlog: run ' || v_moved || ' changed since it was read';
    END IF;
  END IF;

  -- 5. Positions in serialized mode, the events, the wake-up.
  IF NOT p_gated THEN
    UPDATE ${s}.log_head SET position = position + v_count WHERE singleton RETURNING position - v_count INTO v_base;
  END IF;

  INSERT INTO ${s}.events (position, run_id, sequence, id, type, step_name, tx_id, payload)
  SELECT v_base + u.ord, u.run_id, u.sequence, u.id, u.type, u.step_name, pg_current_xact_id(), u.payload
  FROM unnest(p_event_run_ids, p_sequences, p_ids, p_types, p_step_names, p_payloads)
    WITH ORDINALITY AS u(run_id, sequence, id, type, step_name, payload, ord);

  IF p_notify_channel IS NOT NULL THEN
    PERFORM pg_notify(p_notify_channel, p_notify_payload_prefix || (v_base + v_count)::text);
  END IF;
  RETURN v_base;
END
$fn$;
`,
  },
  {
    version: 5,
    name: "serialized positions: no index for the xid gate",
    sql: (s, _schema, positions) =>
      positions === "serialized"
        ? `
-- Serialized mode reads its head from log_head and never gates on tx_id: migration 2's
-- index only cost every inserted event one more btree entry (~10-15 % of an event row's
-- insert, bench/OPTIMISATIONS.md). xid-gated schemas keep it (queries.ts, the gated head).
DROP INDEX IF EXISTS ${s}.events_tx_id_position_idx;
`
        : `SELECT 1`,
  },
];
