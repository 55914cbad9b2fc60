// Events in the events table: the payload column is the whole runlog.v1.Event in
// protobuf binary with position 0; the position column is put back on read.
// Both directions go through the compiled codec (src/codec, adr/0007): the same
// bytes and messages as protobuf-es's toBinary/fromBinary, 2.5–3× faster.
import { EventSchema, type Event } from "../../../gen/runlog/v1/event_pb.js";
import { codecFor } from "../../codec/codec.js";
import { decodeForFold } from "../fold-decoder.js";

const eventCodec = codecFor(EventSchema);

export function encodeEvent(event: Event): Uint8Array {
  if (event.position === 0n) return eventCodec.encode(event);
  return eventCodec.encode({ ...event, position: 0n });
}

/**
 * encodeEvent() of each event of a batch. (Encoding the batch as one LoadResponse and
 * cutting each event's bytes out halved the time with protobuf-es's toBinary; with the
 * compiled codec, which writes into one kept buffer, encoding each event is as fast.)
 */
export function encodeEvents(events: readonly Event[]): Uint8Array[] {
  return events.map(encodeEvent);
}

export function decodeEvent(payload: Uint8Array, position: bigint, foldOnly = false): Event {
  const event = (foldOnly ? decodeForFold : eventCodec.decode)(payload);
  event.position = position;
  return event;
}

/** int8 columns arrive as strings (pg does not guess at bigint parsing). */
export function toBigInt(value: unknown): bigint {
  if (typeof value === "bigint") return value;
  if (typeof value === "string" || typeof value === "number") return BigInt(value);
  throw new TypeError(`expected an int8 value, got ${value === null ? "null" : typeof value}`);
}
