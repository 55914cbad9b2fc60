// Events in the events table: the payload column is the whole runlog.v1.Event in
// protobuf binary with position 0; the position column is put back on read.
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { EventSchema, type Event } from "../../../gen/runlog/v1/event_pb.js";

export function encodeEvent(event: Event): Uint8Array {
  if (event.position === 0n) return toBinary(EventSchema, event);
  return toBinary(EventSchema, { ...event, position: 0n });
}

export function decodeEvent(payload: Uint8Array, position: bigint): Event {
  const event = fromBinary(EventSchema, payload);
  event.position = position;
  return event;
}

/** int8 columns arrive as strings (pg does not guess at bigint parsing). */
export function toBigInt(value: unknown): bigint {
  if (typeof value === "bigint") return value;
  if (typeof value === "string" || typeof value === "number") return BigInt(value);
  throw new TypeError(`expected an int8 value, got ${value === null ? "null" : typeof value}`);
}
