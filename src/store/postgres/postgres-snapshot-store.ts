// SnapshotStore on the snapshots table (beside the events, never in a run's sequence).
import type { Pool } from "pg";
import type { SnapshotStore } from "../snapshot-store.js";
import { toBigInt } from "./event-codec.js";
import { toStoreError } from "./pg-errors.js";
import type { Queries } from "./queries.js";

export function createPostgresSnapshotStore(pool: Pool, queries: Queries, assertOpen: () => void): SnapshotStore {
  return {
    async latest(runId, atOrBefore, reducerVersion) {
      assertOpen();
      try {
        const result = await pool.query<{ sequence: string; state: Buffer }>(queries.latestSnapshot, [
          runId,
          reducerVersion,
          atOrBefore,
        ]);
        const row = result.rows[0];
        if (row === undefined) return undefined;
        return { runId, sequence: toBigInt(row.sequence), reducerVersion, state: new Uint8Array(row.state) };
      } catch (error) {
        throw toStoreError(error, "loading a snapshot");
      }
    },
    async save(snapshot) {
      assertOpen();
      try {
        await pool.query(queries.saveSnapshot, [snapshot.runId, snapshot.reducerVersion, snapshot.sequence, snapshot.state]);
      } catch (error) {
        throw toStoreError(error, "saving a snapshot");
      }
    },
  };
}
