// Binary Load / ReadLog pages: the events encoded once, cut by exact size, and
// carried as the response's unknown field 1, which decodes as its events.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { LoadResponseSchema } from "../../gen/runlog/v1/event_store_pb.js";
import { encodedPage } from "../../src/service/page-bytes.js";
import { customEvent } from "../support/events.js";

const events = Array.from({ length: 10 }, (_, i) => customEvent("page-run", { name: `e${i}`, json: "x".repeat(100) }, { sequence: i + 1 }));

function asLoadResponse(page: ReturnType<typeof encodedPage>) {
  const response = create(LoadResponseSchema, { nextAfterSequence: 7n, hasMore: true });
  response.$unknown = [page.events];
  return fromBinary(LoadResponseSchema, toBinary(LoadResponseSchema, response));
}

describe("encoded pages", () => {
  it("holds every event when they fit, and decodes to them with the other fields", () => {
    const page = encodedPage(events);
    expect(page.count).toBe(10);
    const decoded = asLoadResponse(page);
    expect(decoded.events).toEqual(events);
    expect(decoded.nextAfterSequence).toBe(7n);
    expect(decoded.hasMore).toBe(true);
  });

  it("cuts to whole events within the byte budget, and lets one larger event travel alone", () => {
    const page = encodedPage(events, 400);
    expect(page.count).toBeLessThan(10);
    expect(page.count).toBeGreaterThan(0);
    expect(1 + page.events.data.length).toBeLessThanOrEqual(400);
    expect(asLoadResponse(page).events).toEqual(events.slice(0, page.count));
    const alone = encodedPage(events, 10);
    expect(alone.count).toBe(1);
    expect(asLoadResponse(alone).events).toEqual(events.slice(0, 1));
  });
});
