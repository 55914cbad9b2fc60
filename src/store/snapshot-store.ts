// The SnapshotStore port: reconstructed run states saved beside the events.
// Snapshots are an optimisation, never the source of truth.

export interface StoredSnapshot {
  readonly runId: string;
  /** The state after this sequence. */
  readonly sequence: bigint;
  /** The reducer version that wrote the state; another version's snapshot is stale. */
  readonly reducerVersion: number;
  /** The encoded state (runlog.v1.RunState, protobuf binary). */
  readonly state: Uint8Array;
}

export interface SnapshotStore {
  /** The snapshot with the highest sequence <= atOrBefore written by reducerVersion, if any. */
  latest(runId: string, atOrBefore: bigint, reducerVersion: number): Promise<StoredSnapshot | undefined>;
  /** Saves a snapshot; saving one that exists (same run, sequence, version) replaces it. */
  save(snapshot: StoredSnapshot): Promise<void>;
}
