// The snapshot property (ARCHITECTURE §6, adr/0001): for random histories and
// every as_of, the state from (snapshot + tail) equals the state from a full replay.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Event } from "../../gen/runlog/v1/event_pb.js";
import { createReconstructor } from "../../src/reconstruct/create-reconstructor.js";
import { evolve } from "../../src/reconstruct/evolve.js";
import { decodeSnapshot, encodeSnapshot } from "../../src/reconstruct/snapshot-codec.js";
import { toRunState } from "../../src/reconstruct/to-run-state.js";
import { createMemoryEventStore } from "../../src/store/memory/memory-event-store.js";
import { appendChecked, expectSameBytes, expectSameState, replay } from "./helpers.js";
import { anyHistory, validHistory } from "./histories.js";

const run = "run-p";

/**
 * For every as_of and several snapshot points s ≤ as_of (none, the first half, the
 * last event, as_of itself): decode(encode(fold(1..s))) + fold(s+1..as_of) == fold(1..as_of).
 */
function snapshotPlusTailEqualsReplay(history: readonly Event[]): void {
  const full = history.map((_, i) => toRunState(replay(run, history.slice(0, i + 1))));
  const snapshots = [0, ...history.map((_, i) => i + 1)].map((s) => encodeSnapshot(replay(run, history.slice(0, s))));
  for (let asOf = 1; asOf <= history.length; asOf++) {
    for (const s of new Set([0, Math.floor(asOf / 3), Math.floor(asOf / 2), asOf - 1, asOf])) {
      const model = decodeSnapshot(snapshots[s]!, run, BigInt(s));
      for (const event of history.slice(s, asOf)) evolve(model, event);
      expectSameState(toRunState(model), full[asOf - 1]!);
      // The private facts agree too: the same snapshot bytes.
      expectSameBytes(encodeSnapshot(model), snapshots[asOf]);
    }
  }
}

describe("snapshot + tail == full replay", () => {
  it("for random valid histories, every as_of, every snapshot point", () => {
    fc.assert(fc.property(validHistory(run, 60), snapshotPlusTailEqualsReplay), { numRuns: 100 });
  });

  it("for random histories breaking any rule (validation switched off)", () => {
    fc.assert(fc.property(anyHistory(run, 60), snapshotPlusTailEqualsReplay), { numRuns: 100 });
  });

  it("encode/decode round trip is the identity on working states", () => {
    fc.assert(
      fc.property(fc.oneof(validHistory(run), anyHistory(run)), (history) => {
        const model = replay(run, history);
        const bytes = encodeSnapshot(model);
        const restored = decodeSnapshot(bytes, run, model.lastSequence);
        expectSameState(toRunState(restored), toRunState(model));
        expectSameBytes(encodeSnapshot(restored), bytes);
      }),
      { numRuns: 200 },
    );
  });

  it("through the reconstructor and the memory store: every as_of, with snapshots every N", async () => {
    await fc.assert(
      fc.asyncProperty(validHistory(run, 100), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 5 }), fc.constantFrom(0, 4, 32), async (history, every, batch, bytesPerEvent) => {
        const store = createMemoryEventStore();
        const writer = createReconstructor({ store, snapshotEvery: every, snapshotBytesPerEvent: bytesPerEvent });
        for (let i = 0; i < history.length; i += batch) await appendChecked(store, writer, history.slice(i, i + batch));
        // A fresh reconstructor: no cache, only the stored snapshots.
        const reader = createReconstructor({ store, snapshotEvery: every, snapshotBytesPerEvent: 0 });
        for (let asOf = 1; asOf <= history.length; asOf++) {
          const result = await reader.getRunState(run, BigInt(asOf));
          expectSameState(result.state, toRunState(replay(run, history.slice(0, asOf))));
          expect(BigInt(result.replayedEvents)).toBe(BigInt(asOf) - result.snapshotSequence);
          expect(result.snapshotSequence % BigInt(every)).toBe(0n);
          // Without the size rule, a snapshot is at least as recent as the last multiple of N
          // before the batch holding as_of.
          if (bytesPerEvent === 0) expect(result.snapshotSequence).toBeGreaterThan(BigInt(asOf - batch - every));
        }
      }),
      { numRuns: 40 },
    );
  });
});
