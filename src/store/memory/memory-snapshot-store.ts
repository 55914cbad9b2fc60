// In-memory SnapshotStore: per run, snapshots sorted by sequence.
import type { SnapshotStore, StoredSnapshot } from "../snapshot-store.js";

export function createMemorySnapshotStore(): SnapshotStore {
  const byRun = new Map<string, StoredSnapshot[]>();
  return {
    async latest(runId, atOrBefore, reducerVersion) {
      const list = byRun.get(runId);
      if (list === undefined) return undefined;
      for (let i = list.length - 1; i >= 0; i--) {
        const snapshot = list[i]!;
        if (snapshot.sequence <= atOrBefore && snapshot.reducerVersion === reducerVersion) return snapshot;
      }
      return undefined;
    },
    async save(snapshot) {
      const copy: StoredSnapshot = { ...snapshot, state: snapshot.state.slice() };
      const list = byRun.get(snapshot.runId);
      if (list === undefined) {
        byRun.set(snapshot.runId, [copy]);
        return;
      }
      const same = list.findIndex((s) => s.sequence === copy.sequence && s.reducerVersion === copy.reducerVersion);
      if (same >= 0) {
        list[same] = copy;
        return;
      }
      list.push(copy);
      list.sort((a, b) => (a.sequence < b.sequence ? -1 : a.sequence > b.sequence ? 1 : 0));
    },
  };
}
