// Events in the events table: the payload column is the whole runlog.v1.Event in
// protobuf binary with position 0; the position column is put back on read.
// Both directions go through the compiled codec (src/codec, adr/0007): the same
// bytes and messages as protobuf-es's toBinary/fromBinary, 2.5–3× faster.
import { EventSchema, type Event } from "../../../gen/runlog/v1/event_pb.js";
import { LoadResponseSchema, type LoadResponse } from "../../../gen/runlog/v1/event_store_pb.js";
import { codecFor } from "../../codec/codec.js";

const eventCodec = codecFor(EventSchema);
const batchCodec = codecFor(LoadResponseSchema);

export function encodeEvent(event: Event): Uint8Array {
  if (event.position === 0n) return eventCodec.encode(event);
  return eventCodec.encode({ ...event, position: 0n });
}

/**
 * encodeEvent() of each event, from one encode() call: the events encoded as the
 * `repeated Event events = 1` of a LoadResponse with nothing else set, then each one's
 * bytes cut out of that (views, no copies). One writer for the batch instead of one per
 * event, each growing from 128 bytes and copied out at the end: half the encoding time
 * of a batch of workflow events (bench/OPTIMISATIONS.md).
 */
export function encodeEvents(events: readonly Event[]): Uint8Array[] {
  if (events.length === 1) return [encodeEvent(events[0]!)];
  const message: LoadResponse = {
    $typeName: "runlog.v1.LoadResponse",
    events: events.map((e) => (e.position === 0n ? e : { ...e, position: 0n })),
    nextAfterSequence: 0n,
    hasMore: false,
  };
  const all = batchCodec.encode(message);
  const out: Uint8Array[] = new Array(events.length);
  let at = 0;
  for (let i = 0; i < events.length; i++) {
    // Field 1, length-delimited: tag 0x0a, then the length as a varint.
    if (all[at++] !== 0x0a) throw new Error("encodeEvents: unexpected field in the encoded batch");
    let length = 0;
    for (let shift = 0; ; shift += 7) {
      const b = all[at++]!;
      length += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) break;
    }
    out[i] = all.subarray(at, at + length);
    at += length;
  }
  if (at !== all.length) throw new Error("encodeEvents: the encoded batch has more than its events");
  return out;
}

export function decodeEvent(payload: Uint8Array, position: bigint): Event {
  const event = eventCodec.decode(payload);
  event.position = position;
  return event;
}

/** int8 columns arrive as strings (pg does not guess at bigint parsing). */
export function toBigInt(value: unknown): bigint {
  if (typeof value === "bigint") return value;
  if (typeof value === "string" || typeof value === "number") return BigInt(value);
  throw new TypeError(`expected an int8 value, got ${value === null ? "null" : typeof value}`);
}
