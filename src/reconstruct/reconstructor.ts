// The Reconstructor: RunState from a run's events (snapshot + tail), time travel,
// snapshots every N events, and lifecycle validation at append time.
// (Interface fixed first so the service can be written against it; the
// implementation is createReconstructor in ./create-reconstructor.ts.)
import type { Event } from "../../gen/runlog/v1/event_pb.js";
import type { RunState } from "../../gen/runlog/v1/run_state_pb.js";

export interface RunStateResult {
  readonly state: RunState;
  /** Sequence of the snapshot the state was built from; 0n: full replay. */
  readonly snapshotSequence: bigint;
  /** Events folded on top of the snapshot (or from scratch). */
  readonly replayedEvents: number;
}

export interface Reconstructor {
  /**
   * The run's state after asOfSequence (default: its last event).
   * RunNotFoundError when the run has no events, or fewer than asOfSequence.
   */
  getRunState(runId: string, asOfSequence?: bigint): Promise<RunStateResult>;
  /**
   * Checks the lifecycle rules (docs/lifecycle-rules.md) for appending these
   * normalized-enough events (type resolved, sequences possibly 0) to the runs'
   * current histories. Throws LifecycleViolationError naming the rule.
   * Returns, per run, the last sequence the check was made against, so the caller
   * can pass it as the expected sequence and make the check atomic with the write.
   */
  validateAppend(events: readonly Event[]): Promise<Map<string, bigint>>;
  /** Called after a successful append with the stored events: saves snapshots every N events. */
  afterAppend(events: readonly Event[]): Promise<void>;
}
