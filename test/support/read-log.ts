import type { Event } from "../../gen/runlog/v1/event_pb.js";
import type { EventStore } from "../../src/store/event-store.js";

/** The store's whole global log, read page by page (pages of `limit`). */
export async function readWholeLog(store: EventStore, limit = 100): Promise<Event[]> {
  const events: Event[] = [];
  let after = 0n;
  for (;;) {
    const page = await store.readLog({ afterPosition: after, limit });
    events.push(...page.events);
    if (!page.hasMore) return events;
    after = page.nextAfterPosition;
  }
}
