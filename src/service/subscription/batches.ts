// Events into SubscribeResponse messages of bounded size.
//
// Live delivery (an encoder given, binary protocols): each event's bytes come from
// the encoder — shared by every subscriber (shared-encoding.ts) — and the batch
// travels pre-encoded as the bytes of the `events` field (carried in the
// response's unknown fields, which protobuf-es writes verbatim: on the wire it is
// exactly a SubscribeResponse with `events` set). Its size is exact, never over
// the budget (an event larger than the budget travels alone).
//
// Catch-up (binary, no encoder): each message is encoded here, whole, by the
// compiled codec as a Load page is (page-bytes.ts: one pass over up to
// batchEvents events, cut in half and encoded again only past the byte budget)
// and travels pre-encoded the same way.
//
// JSON: ordinary messages cut by an estimate of their size, encoded by the transport.
import { create } from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
import type { Event } from "../../../gen/runlog/v1/event_pb.js";
import { SubscribeResponseSchema, type SubscribeResponse } from "../../../gen/runlog/v1/event_store_pb.js";
import { varintSize, writeVarint } from "../../codec/varint.js";
import { encodedPage } from "../page-bytes.js";
import { estimateSize } from "./estimate-size.js";
import type { EventEncoder } from "./shared-encoding.js";

export type Encoding = "binary" | "json";

export interface BatchLimits {
  /** Most events in one message. */
  readonly batchEvents: number;
  /** Most bytes of events in one message (binary: exact; JSON: estimated). */
  readonly batchBytes: number;
}

/** SubscribeResponse.events is field 1; EventBatch.events is field 1. */
const eventsField = 1;

/**
 * Yields [message, last event of the message] pairs for `events`, in order:
 * pre-encoded with `encode` for binary protocols when it is given, else ordinary messages.
 */
export function* eventBatches(
  events: readonly Event[],
  encoding: Encoding,
  limits: BatchLimits,
  encode?: EventEncoder,
): Generator<readonly [SubscribeResponse, Event]> {
  if (encoding === "json") {
    yield* messageBatches(events, limits, 4);
    return;
  }
  if (encode === undefined) {
    yield* encodedBatches(events, limits);
    return;
  }
  const parts = events.map((event) => encode(event));
  let start = 0;
  for (const end of batchEnds(parts, limits)) {
    const last = events[end - 1]!;
    yield [end - start === 1 ? sharedBatch(last, parts[start]!) : assembled(parts.slice(start, end)), last];
    start = end;
  }
}

/**
 * The live message for one event, the usual chunk of a live subscription:
 * eventBatches(events, "binary", limits, encode) for that one event, without
 * the arrays and the generator.
 */
export function liveBatch(event: Event, encode: EventEncoder): SubscribeResponse {
  return sharedBatch(event, encode(event));
}

/**
 * Where the messages of events encoded as `parts` end: each holds at most
 * batchEvents events and batchBytes bytes of them (an event larger than that alone).
 */
function* batchEnds(parts: readonly Uint8Array[], limits: BatchLimits): Generator<number> {
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < parts.length; i++) {
    const size = parts[i]!.length;
    if (i > start && (i - start >= limits.batchEvents || bytes + size > limits.batchBytes)) {
      yield i;
      start = i;
      bytes = 0;
    }
    bytes += size + 6;
  }
  if (start < parts.length) yield parts.length;
}

/**
 * The message for one event whose bytes are `bytes`. Live delivery hands the
 * same one-event batch to every subscriber in turn, so the last one is kept and
 * handed out again for the same event.
 */
function sharedBatch(event: Event, bytes: Uint8Array): SubscribeResponse {
  if (lastSingle !== undefined && lastSingle.event === event && lastSingle.bytes === bytes) return lastSingle.message;
  const message = assembled([bytes]);
  lastSingle = { event, bytes, message };
  return message;
}

/**
 * Messages of events the store keeps encoded (catch-up from loadEncoded /
 * readLogEncoded), cut as live batches are; each with the coordinate of its last event.
 */
export function* storedBatches(
  events: readonly Uint8Array[],
  coordinates: readonly bigint[],
  limits: BatchLimits,
): Generator<readonly [SubscribeResponse, bigint]> {
  let start = 0;
  for (const end of batchEnds(events, limits)) {
    yield [assembled(events.slice(start, end)), coordinates[end - 1]!];
    start = end;
  }
}

/** The message for events whose bytes are `parts`, assembled in one buffer. */
function assembled(parts: readonly Uint8Array[]): SubscribeResponse {
  let body = 0;
  for (const part of parts) body += 1 + varintSize(part.length) + part.length;
  const data = Buffer.allocUnsafe(varintSize(body) + body);
  let at = writeVarint(data, 0, body);
  for (const part of parts) {
    data[at++] = (eventsField << 3) | WireType.LengthDelimited;
    at = writeVarint(data, at, part.length);
    data.set(part, at);
    at += part.length;
  }
  return eventsResponse(data);
}

/** A SubscribeResponse whose `events` field (1) is `data`: the EventBatch's length, then the EventBatch. */
function eventsResponse(data: Uint8Array): SubscribeResponse {
  const message = create(SubscribeResponseSchema);
  message.$unknown = [{ no: eventsField, wireType: WireType.LengthDelimited, data }];
  return message;
}
let lastSingle: { readonly event: Event; readonly bytes: Uint8Array; readonly message: SubscribeResponse } | undefined;

/**
 * Messages encoded here, whole (encodedPage: one encoding, halved only past the
 * budget); each within the byte budget unless it holds a single larger event.
 */
function* encodedBatches(events: readonly Event[], limits: BatchLimits): Generator<readonly [SubscribeResponse, Event]> {
  // Room for the response's own tag and length around the EventBatch.
  const budget = limits.batchBytes - 6;
  for (let start = 0; start < events.length; ) {
    const page = encodedPage(events.slice(start, start + limits.batchEvents), budget);
    // page.events.data is the EventBatch after its first tag byte.
    const batchLength = 1 + page.events.data.length;
    const data = Buffer.allocUnsafe(varintSize(batchLength) + batchLength);
    let at = writeVarint(data, 0, batchLength);
    data[at++] = (eventsField << 3) | WireType.LengthDelimited;
    data.set(page.events.data, at);
    yield [eventsResponse(data), page.last];
    start += page.count;
  }
}

/** Ordinary messages; `expansion`: how much larger than protobuf the wire form is (JSON spells out names: 4). */
function* messageBatches(
  events: readonly Event[],
  limits: BatchLimits,
  expansion: number,
): Generator<readonly [SubscribeResponse, Event]> {
  const budget = limits.batchBytes / expansion;
  let batch: Event[] = [];
  let bytes = 0;
  const flush = (): readonly [SubscribeResponse, Event] => {
    const message = create(SubscribeResponseSchema, { message: { case: "events", value: { events: batch } } });
    const last = batch[batch.length - 1]!;
    batch = [];
    bytes = 0;
    return [message, last];
  };
  for (const event of events) {
    const size = estimateSize(event);
    if (batch.length > 0 && (batch.length >= limits.batchEvents || bytes + size > budget)) yield flush();
    batch.push(event);
    bytes += size;
  }
  if (batch.length > 0) yield flush();
}
