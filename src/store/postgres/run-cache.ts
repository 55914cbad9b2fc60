// What one store instance knows of the runs it appended to (or read for an append):
// each run's last sequence and summary as of then. An append to a run found here
// decides from it and skips the read (one round trip instead of two). It is never
// trusted for correctness: append_events() checks, before writing anything, that
// every run is still at the sequence the append decided from, and the append reads
// and decides again when one moved (another server appended) — see
// append-transaction.ts. Bounded: the least recently written runs are dropped.
import type { RunStatus } from "../../../gen/runlog/v1/run_state_pb.js";

export interface RunRow {
  readonly lastSequence: bigint;
  readonly workflowName: string;
  readonly workflowStarted: boolean;
  readonly status: RunStatus;
  readonly waitingSignals: number;
}

export interface RunCache {
  get(runId: string): RunRow | undefined;
  /** Records a run's state; never moves a run back (a slower read must not undo a newer write). */
  set(runId: string, run: RunRow): void;
  delete(runId: string): void;
  readonly size: number;
}

export function createRunCache(maxRuns: number): RunCache {
  const runs = new Map<string, RunRow>();
  return {
    get: (runId) => runs.get(runId),
    set(runId, run) {
      const known = runs.get(runId);
      if (known !== undefined) {
        if (known.lastSequence > run.lastSequence) return;
        runs.delete(runId);
      } else if (runs.size >= maxRuns) {
        runs.delete(runs.keys().next().value!);
      }
      runs.set(runId, run);
    },
    delete(runId) {
      runs.delete(runId);
    },
    get size() {
      return runs.size;
    },
  };
}
