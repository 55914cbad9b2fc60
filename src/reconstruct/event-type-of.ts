// The type an event stands for, cheaply: a stored event's type is already
// resolved; an input event may leave it UNSPECIFIED (derived from the payload).
import { EventType, type Event } from "../../gen/runlog/v1/event_pb.js";
import { resolveEventType } from "../events/validate.js";

export function eventTypeOf(event: Event): EventType {
  return event.type !== EventType.UNSPECIFIED ? event.type : resolveEventType(event, "event");
}
