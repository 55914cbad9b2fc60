// Load and ReadLog pages are cut by size as well as by count, so that a page
// stays well below the 4 MiB most gRPC clients accept by default (grpc-go,
// grpcio, grpc-java) whatever the events weigh. The page is cut after the last
// event that fits, with has_more set and the next cursor after that event; a
// single event larger than the budget still travels, alone.
import type { Event } from "../../gen/runlog/v1/event_pb.js";
import { estimateSize } from "./subscription/estimate-size.js";

/** Estimated bytes of events in one Load / ReadLog response. */
export const pageBytes = 1024 * 1024;

/** How many of `events`, from the first, fit in `budget` estimated bytes (at least one). */
export function fittingCount(events: readonly Event[], budget = pageBytes): number {
  let bytes = 0;
  for (let i = 0; i < events.length; i++) {
    bytes += estimateSize(events[i]);
    if (bytes > budget && i > 0) return i;
  }
  return events.length;
}
