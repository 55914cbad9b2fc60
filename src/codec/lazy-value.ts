// A google.protobuf.Value decoded only when something reads it.
//
// An appended event's JSON (Event.output, a workflow's input, a context value…)
// was up to half of what decoding an AppendBatch cost (bench/OPTIMISATIONS.md 26), yet
// nothing on the append path looks inside it: validation asks whether it is
// there, the store keeps the bytes it arrived as, the fold holds it by reference
// and a snapshot encodes it again. The gRPC port's request decoder
// (codec.ts requestDecoderFor) therefore checks a Value's bytes — that decoding
// them will succeed, the same depth limit and UTF-8 rules, no unknown fields —
// and leaves them in a LazyValue. Reading `kind` decodes them once (with the
// decoder that made it); encoding an unread one copies its bytes.
//
// The bytes are the request's. Kept by the reconstructor's cached states they
// would keep every request buffer alive, so before the append path lets go of
// them each LazyValue is either moved onto bytes the store keeps anyway (the
// memory store's slabs: rebaseLazyValues) or decoded (settleLazyValues).
import type { Value } from "@bufbuild/protobuf/wkt";
import { EventSchema, type Event } from "../../gen/runlog/v1/event_pb.js";

/** Decodes the Value encoded in bytes start … end - 1 (the compiled decoder that made the LazyValue). */
export type ValueRangeDecoder = (bytes: Uint8Array, start: number, end: number) => Value;

const unset: Value["kind"] = Object.freeze({ case: undefined });

export class LazyValue {
  readonly $typeName = "google.protobuf.Value";
  #bytes: Uint8Array | undefined;
  #start: number;
  #end: number;
  #decode: ValueRangeDecoder | undefined;
  /** Set when the bytes are read or `kind` is set; before that nothing returns it. */
  #kind: Value["kind"] = unset;
  /** Whether #bytes live as long as the store that holds the event (rebaseLazyValues). */
  #kept = false;

  constructor(bytes: Uint8Array, start: number, end: number, decode: ValueRangeDecoder) {
    this.#bytes = bytes;
    this.#start = start;
    this.#end = end;
    this.#decode = decode;
  }

  get kind(): Value["kind"] {
    if (this.#bytes !== undefined) this.#materialize();
    return this.#kind;
  }

  set kind(kind: Value["kind"]) {
    this.#kind = kind;
    this.#bytes = undefined;
    this.#decode = undefined;
  }

  #materialize(): void {
    const decoded = this.#decode!(this.#bytes!, this.#start, this.#end);
    // Once read, the caller may change what it got: the bytes would no longer say the same.
    this.#bytes = undefined;
    this.#decode = undefined;
    this.#kind = decoded.kind;
  }

  /** The encoding of `value` while nothing has read it (a view, not to be changed); else undefined. */
  static unread(value: LazyValue): Uint8Array | undefined {
    return value.#bytes?.subarray(value.#start, value.#end);
  }

  /** Moves an unread value found inside `from` onto the same bytes copied to `to` at `at`. */
  static rebase(value: LazyValue, from: Uint8Array, to: Uint8Array, at: number): void {
    const bytes = value.#bytes;
    if (bytes === undefined || bytes.buffer !== from.buffer) return;
    const start = bytes.byteOffset + value.#start - from.byteOffset;
    const length = value.#end - value.#start;
    if (start < 0 || start + length > from.length) return;
    value.#bytes = to;
    value.#start = at + start;
    value.#end = at + start + length;
    value.#kept = true;
  }

  /** Decodes `value` unless it is read or its bytes are kept (rebase). */
  static settle(value: LazyValue): void {
    if (value.#bytes !== undefined && !value.#kept) value.#materialize();
  }
}

/**
 * Where an event can hold a Value, by payload case: the payload message's
 * Value fields (`name`), and its oneofs with a Value member (`name` the oneof,
 * `member` the case), read from the schema once. Event.output is checked apart.
 */
const payloadValues = new Map<string, readonly { readonly name: string; readonly member?: string }[]>();
for (const member of EventSchema.oneofs.find((o) => o.localName === "payload")!.fields) {
  if (member.fieldKind !== "message") continue;
  const places: { name: string; member?: string }[] = [];
  for (const field of member.message.fields) {
    if (field.fieldKind !== "message" || field.message.typeName !== "google.protobuf.Value") continue;
    places.push(field.oneof === undefined ? { name: field.localName } : { name: field.oneof.localName, member: field.localName });
  }
  if (places.length > 0) payloadValues.set(member.localName, places);
}

// What visitLazyValues does to each LazyValue it finds: rebase (with these
// module variables, not a closure per event) or settle.
type Visit = "rebase" | "settle";
let rebaseFrom: Uint8Array = new Uint8Array(0);
let rebaseTo: Uint8Array = rebaseFrom;
let rebaseAt = 0;

function apply(value: unknown, visit: Visit): void {
  if (!(value instanceof LazyValue)) return;
  if (visit === "rebase") LazyValue.rebase(value, rebaseFrom, rebaseTo, rebaseAt);
  else LazyValue.settle(value);
}

/** Applies `visit` to every LazyValue `event` holds: Event.output and its payload's Value fields. */
function visitLazyValues(event: Event, visit: Visit): void {
  apply(event.output, visit);
  const { case: payloadCase, value: payload } = event.payload;
  if (payloadCase === undefined) return;
  const places = payloadValues.get(payloadCase);
  if (places === undefined) return;
  const fields = payload as unknown as Record<string, unknown>;
  for (const place of places) {
    const field = fields[place.name];
    if (place.member === undefined) apply(field, visit);
    else if ((field as { case?: string } | undefined)?.case === place.member) apply((field as { value: unknown }).value, visit);
  }
}

/**
 * For a store that copied `event`'s encoding `from` (a view of the request) to
 * `to` at `at` and keeps it there: its unread values read those bytes from now
 * on, and no longer keep the request's.
 */
export function rebaseLazyValues(event: Event, from: Uint8Array, to: Uint8Array, at: number): void {
  rebaseFrom = from;
  rebaseTo = to;
  rebaseAt = at;
  visitLazyValues(event, "rebase");
  rebaseFrom = rebaseTo = empty;
}
const empty = new Uint8Array(0);

/** Decodes every unread value of `events` whose bytes are still the request's (not rebased). */
export function settleLazyValues(events: readonly Event[]): void {
  for (const event of events) visitLazyValues(event, "settle");
}
