// The same workflow events as emmett events: { type, data } with the payload
// as plain JSON — what an emmett user would store for a runlog Event.
import { toJson } from "@bufbuild/protobuf";
import { EventSchema, type Event } from "../../gen/runlog/v1/event_pb.js";

export interface EmmettWorkflowEvent {
  type: string;
  data: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  // emmett's Event type carries a `kind` marker.
  kind?: "Event";
}

/** A runlog Event as an emmett event: type from the payload case, data from its proto JSON. */
export function toEmmettEvent(event: Event): EmmettWorkflowEvent {
  const json = toJson(EventSchema, event) as Record<string, unknown>;
  const { payload: _p, ...rest } = json;
  const payloadCase = event.payload.case ?? "custom";
  const data = { ...rest, ...((json[payloadCase] as Record<string, unknown> | undefined) ?? {}) };
  delete data[payloadCase];
  return { type: payloadCase, data };
}
