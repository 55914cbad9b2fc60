// Load and ReadLog pages are cut by size as well as by count, so that a page
// stays well below the 4 MiB most gRPC clients accept by default (grpc-go,
// grpcio, grpc-java) whatever the events weigh. The page is cut after the last
// event that fits, with has_more set and the next cursor after that event; a
// single event larger than the budget still travels, alone.
//
// Binary protocols get the page encoded here by the compiled codec, with exact
// sizes: the events are encoded once, and cut in half and encoded again only if
// they pass the budget (estimating every event's size first cost 13 % of a
// Load's server CPU). JSON responses are cut by an estimate.
import { create, type DescMessage, type MessageInitShape, type MessageShape, type UnknownField } from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
import { EventBatchSchema } from "../../gen/runlog/v1/event_store_pb.js";
import type { Event } from "../../gen/runlog/v1/event_pb.js";
import { codecFor } from "../codec/codec.js";
import { varintSize, writeVarint } from "../codec/varint.js";
import { estimateSize } from "./subscription/estimate-size.js";

/** Bytes of events in one Load / ReadLog response (binary: exact; JSON: estimated). */
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

export interface BytesPage {
  /** How many of the events, from the first, the page holds (at least one). */
  readonly count: number;
  /** Whether the page holds fewer events than it was given (then has_more, and the cursor is the last one's). */
  readonly cut: boolean;
  /**
   * Those events as field 1 (`repeated Event events`) of a LoadResponse or
   * ReadLogResponse, in the shape protobuf-es keeps unknown fields in: set it as
   * the response's $unknown and both transports write the bytes as they are.
   */
  readonly events: UnknownField;
}

export interface EncodedPage extends BytesPage {
  /** The last event the page holds. */
  readonly last: Event;
}

const batchCodec = codecFor(EventBatchSchema);
const eventsTag = (1 << 3) | WireType.LengthDelimited;

/** The first events of `events` (at least one) whose encoding fits in `budget` bytes, encoded. */
export function encodedPage(events: readonly Event[], budget = pageBytes): EncodedPage {
  let count = events.length;
  for (;;) {
    const page = count === events.length ? events : events.slice(0, count);
    // EventBatch is `repeated Event events = 1` too: its bytes are those records, each
    // tag, length, event; protobuf-es keeps them as one unknown field of that number
    // whose data is everything after the first tag (written back as tag + data).
    const bytes = batchCodec.encode({ events: page as Event[] });
    if (count > 1 && bytes.length > budget) {
      count = Math.ceil(count / 2);
      continue;
    }
    if (bytes.length > 0 && bytes[0] !== eventsTag) throw new Error("not an encoded EventBatch");
    return {
      count,
      cut: count < events.length,
      last: events[count - 1]!,
      events: { no: 1, wireType: WireType.LengthDelimited, data: bytes.subarray(1) },
    };
  }
}

/**
 * The first of `events` (at least one), already encoded (a store's
 * loadEncoded / readLogEncoded), that fit in `budget` bytes: copied into one
 * buffer, as encodedPage's result.
 */
export function storedPage(events: readonly Uint8Array[], budget = pageBytes): BytesPage {
  let count = 0;
  let size = 0;
  for (; count < events.length; count++) {
    const record = 1 + varintSize(events[count]!.length) + events[count]!.length;
    if (count > 0 && size + record > budget) break;
    size += record;
  }
  const data = Buffer.allocUnsafe(size - 1);
  let at = -1; // the first record's tag is not in `data`
  for (let i = 0; i < count; i++) {
    const bytes = events[i]!;
    if (at >= 0) data[at] = eventsTag;
    at = writeVarint(data, at + 1, bytes.length);
    data.set(bytes, at);
    at += bytes.length;
  }
  return { count, cut: count < events.length, events: { no: 1, wireType: WireType.LengthDelimited, data } };
}

/** A LoadResponse or ReadLogResponse: the other fields from `init`, the events those of `page`. */
export function pageResponse<Desc extends DescMessage>(schema: Desc, page: BytesPage, init: MessageInitShape<Desc>): MessageShape<Desc> {
  const response = create(schema, init);
  response.$unknown = [page.events];
  return response;
}
