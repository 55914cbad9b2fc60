// Bounds on every input, with their documented defaults (docs/limits.md).
// Compiled once at start-up (src/cli/config.ts) and passed down; never read from globals.

export interface Limits {
  /** Characters in a run ID. */
  readonly maxRunIdLength: number;
  /** Characters in a step name, signal name, workflow name, custom event name, metadata key. */
  readonly maxNameLength: number;
  /** Entries in one event's metadata map. */
  readonly maxMetadataEntries: number;
  /** UTF-16 code units of all metadata keys and values of one event together. */
  readonly maxMetadataSize: number;
  /** Events in one AppendBatch. */
  readonly maxBatchEvents: number;
  /** Events returned by one Load or ReadLog page. */
  readonly maxPageEvents: number;
}

export const defaultLimits: Limits = {
  maxRunIdLength: 256,
  maxNameLength: 256,
  maxMetadataEntries: 64,
  maxMetadataSize: 16 * 1024,
  maxBatchEvents: 10_000,
  maxPageEvents: 10_000,
};
