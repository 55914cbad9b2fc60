// Recorded histories (test/fixtures/*.events.json, proto JSON of Event) and the
// run states they must reconstruct to (*.state.json, proto JSON of RunState per run),
// written by hand from the catalog's meaning, not dumped from the code.
import { describe, expect, it } from "vitest";
import { RunStatus } from "../../gen/runlog/v1/run_state_pb.js";
import { createReconstructor } from "../../src/reconstruct/create-reconstructor.js";
import { createMemoryEventStore } from "../../src/store/memory/memory-event-store.js";
import { appendChecked, eventsOfRun, expectSameState, loadFixture, stateOf } from "./helpers.js";

const fixtures = ["retries-and-branch", "signal-wait", "map-fan-out", "compensation", "parent-child"];

describe.each(fixtures)("golden history %s", (name) => {
  const fixture = loadFixture(name);

  it("folds to the expected state", () => {
    for (const [runId, expected] of fixture.expected) {
      expectSameState(stateOf(runId, eventsOfRun(fixture.events, runId)), expected);
    }
  });

  it("reconstructs to the expected state through the store, with and without snapshots", async () => {
    const store = createMemoryEventStore();
    const writer = createReconstructor({ store, snapshotEvery: 4, snapshotBytesPerEvent: 0 });
    // Appended in recorded order, one event at a time, with lifecycle validation.
    for (const event of fixture.events) {
      const stored = await appendChecked(store, writer, [{ ...event, sequence: 0n, position: 0n }]);
      expect(stored[0]!.sequence).toBe(event.sequence);
    }
    const reader = createReconstructor({ store });
    for (const [runId, expected] of fixture.expected) {
      const result = await reader.getRunState(runId);
      expectSameState(result.state, expected);
      expect(result.snapshotSequence).toBe(expected.lastSequence - (expected.lastSequence % 4n));
    }
  });
});

describe("golden histories as of earlier sequences", () => {
  it("signal-wait: WAITING while the signal is pending", async () => {
    const { events } = loadFixture("signal-wait");
    const store = createMemoryEventStore();
    await store.append(events);
    const reconstructor = createReconstructor({ store });
    const waiting = await reconstructor.getRunState("approval-7", 5n);
    expect(waiting.state.status).toBe(RunStatus.WAITING);
    expect(waiting.state.customEventCount).toBe(1n);
    expect((await reconstructor.getRunState("approval-7", 3n)).state.signals).toEqual([]);
  });

  it("compensation: COMPENSATING, then COMPENSATED, then FAILED", async () => {
    const { events } = loadFixture("compensation");
    const store = createMemoryEventStore();
    await store.append(events);
    const reconstructor = createReconstructor({ store });
    const status = async (asOf: bigint) => (await reconstructor.getRunState("trip-9", asOf)).state.status;
    expect(await status(7n)).toBe(RunStatus.RUNNING);
    expect(await status(8n)).toBe(RunStatus.COMPENSATING);
    expect(await status(9n)).toBe(RunStatus.COMPENSATED);
    expect(await status(10n)).toBe(RunStatus.FAILED);
  });
});
