// close(): releases resources; later calls fail with UnavailableError.
import { describe, expect, it } from "vitest";
import { UnavailableError } from "../../../src/errors.js";
import { stepStarted, uniqueRunId } from "../../support/events.js";
import { rejection, type ContractContext } from "./harness.js";

export function close(ctx: ContractContext): void {
  describe("close", () => {
    it("later calls reject with UnavailableError; closing again is harmless", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      await store.append([stepStarted(runId)]);
      await store.close();
      await store.close();
      await rejection(store.append([stepStarted(runId)]), UnavailableError);
      await rejection(store.load(runId), UnavailableError);
      await rejection(store.getLastSequence(runId), UnavailableError);
      await rejection(store.readLog(), UnavailableError);
      await rejection(store.headPosition(), UnavailableError);
      await rejection(store.listRuns(), UnavailableError);
      await rejection(store.snapshots.latest(runId, 1n, 1), UnavailableError);
      await rejection(
        store.snapshots.save({ runId, sequence: 1n, reducerVersion: 1, state: new Uint8Array() }),
        UnavailableError,
      );
      expect(true).toBe(true);
    });
  });
}
