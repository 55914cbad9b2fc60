// The EventStore contract suite: every store (memory, postgres) runs it unchanged
// from a ten-line spec that only wires its factory:
//
//   eventStoreContract("memory", async () => ({ store: createMemoryEventStore() }));
//
// Each test case gets a fresh store from the factory, which may also return a
// cleanup (drop a schema, close a pool). The suite uses the EventStore port only,
// makes no timing assumptions (change-feed deliveries are awaited, not assumed)
// and uses unique run IDs. It assumes a fresh store is empty.
import { afterEach, beforeEach, describe } from "vitest";
import { defaultLimits, type Limits } from "../../src/limits.js";
import type { EventStore } from "../../src/store/event-store.js";
import { badInput } from "./event-store/bad-input.js";
import { changeFeed } from "./event-store/change-feed.js";
import { close } from "./event-store/close.js";
import type { ContractContext } from "./event-store/harness.js";
import { listRuns } from "./event-store/list-runs.js";
import { reads } from "./event-store/reads.js";
import { s1Acceptance } from "./event-store/s1-acceptance.js";
import { snapshots } from "./event-store/snapshots.js";
import { writeSemantics } from "./event-store/write-semantics.js";

export interface StoreUnderTest {
  readonly store: EventStore;
  readonly cleanup?: () => Promise<void>;
}

export interface EventStoreContractOptions {
  /** The limits the factory's stores are configured with; default defaultLimits. */
  readonly limits?: Limits;
}

export function eventStoreContract(
  name: string,
  factory: () => Promise<StoreUnderTest>,
  options: EventStoreContractOptions = {},
): void {
  describe(`EventStore contract: ${name}`, () => {
    let current: StoreUnderTest | undefined;
    const ctx: ContractContext = {
      store: () => {
        if (current === undefined) throw new Error("no store: the factory has not run");
        return current.store;
      },
      limits: options.limits ?? defaultLimits,
    };

    beforeEach(async () => {
      current = await factory();
    });

    afterEach(async () => {
      const done = current;
      current = undefined;
      if (done === undefined) return;
      try {
        await done.store.close();
      } finally {
        await done.cleanup?.();
      }
    });

    s1Acceptance(ctx);
    writeSemantics(ctx);
    reads(ctx);
    listRuns(ctx);
    changeFeed(ctx);
    snapshots(ctx);
    badInput(ctx);
    close(ctx);
  });
}
