// The proposed src/ changes measured as server variants (see variant.ts). Each
// is a patch on the current sources; RESULTS.md and OPTIMISATIONS.md report them
// next to the unpatched server, interleaved repetition by repetition.
import type { Variant } from "./variant.js";

/**
 * A diagnostic, not a proposal: the whole server (transports, adapter, call gate,
 * error mapping, request parsing) with an Append handler that answers at once
 * without touching the store. Against the bare echo it prices the adapter; against
 * the real server it prices the handler path (validation, lifecycle, store, snapshots).
 */
export const noopAppend: Variant = {
  name: "noop-append",
  description:
    "diagnostic: the Append handler in src/service/event-store-service.ts returns a fixed AppendResponse at once (no validation, no store); everything else as shipped",
  entry: "src/server.ts",
  files: [
    {
      file: "src/service/event-store-service.ts",
      replace: [
        [
          "    async append(request, context) {\n      const event = request.event;",
          "    async append(request, context) {\n      if (request.event !== undefined) return { event: { id: \"0190f7a2-5c1e-7c3a-9d2b-1f2e3d4c5b6a\", runId: request.event.runId, sequence: 1n, position: 1n }, duplicate: false };\n      const event = request.event;",
        ],
      ],
    },
    { file: "src/server.ts" },
  ],
};

/**
 * Catch-up encodes each batch with one toBinary, not event by event: the
 * pre-encoded batches of src/service/subscription/batches.ts call toBinary once
 * per event (a fresh writer that grows 128 → 256 bytes, then a copy) and copy the
 * bytes again into the batch — 6.5 µs/event against 2.8 µs/event for one toBinary
 * of the whole 512-event message (inproc.breakdown.subscribe-encode-512). The
 * variant sends catch-up batches (no shared encoding to reuse) as ordinary
 * messages cut by the size estimate, as the JSON path already does; live batches
 * keep the shared pre-encoded bytes.
 */
export const catchUpBatchEncode: Variant = {
  name: "catch-up-batch-encode",
  description:
    "src/service/subscription/batches.ts eventBatches(): when no shared encoder is given (catch-up), build ordinary SubscribeResponse batches (cut by the size estimate, like the JSON path) so the transport encodes each batch with one toBinary, instead of toBinary per event plus a copy",
  entry: "src/server.ts",
  files: [
    {
      file: "src/service/subscription/batches.ts",
      replace: [['  if (encoding === "json") {\n    yield* jsonBatches(events, limits);', '  if (encoding === "json" || encode === encodeEvent) {\n    yield* jsonBatches(events, limits);']],
    },
    { file: "src/service/subscription/subscribe.ts" },
    { file: "src/service/event-store-service.ts" },
    { file: "src/server.ts" },
  ],
};

/**
 * catch-up-batch-encode, plus: catch-up reads look the shared live encodings up
 * without inserting (so old events never evict live ones). A subscriber that fell
 * behind and re-reads recent events from the store — what happens to some of 100
 * subscribers under a fast writer — then sends the bytes already encoded for the
 * others instead of encoding every event again; a page with any miss is sent as
 * ordinary messages, one toBinary per batch.
 */
export const catchUpShared: Variant = {
  name: "catch-up-shared",
  description:
    "catch-up-batch-encode + src/service/subscription/shared-encoding.ts exposes peek(event) (lookup without insert); subscribe.ts passes it to the catch-up eventBatches(), which sends a page pre-encoded when every event is in the live ring, else as ordinary messages (one toBinary per batch)",
  entry: "src/server.ts",
  files: [
    {
      file: "src/service/subscription/shared-encoding.ts",
      replace: [
        [
          `  return (event) => {
    const slot = Number(event.position & BigInt(mask));
    if (events[slot] === event) return bytes[slot]!;
    const encoded = toBinary(EventSchema, event);
    events[slot] = event;
    bytes[slot] = encoded;
    return encoded;
  };`,
          `  const encode = ((event: Event) => {
    const slot = Number(event.position & BigInt(mask));
    if (events[slot] === event) return bytes[slot]!;
    const encoded = toBinary(EventSchema, event);
    events[slot] = event;
    bytes[slot] = encoded;
    return encoded;
  }) as EventEncoder & { peek?: (event: Event) => Uint8Array | undefined };
  encode.peek = (event: Event) => {
    const slot = Number(event.position & BigInt(mask));
    return events[slot] === event ? bytes[slot] : undefined;
  };
  return encode;`,
        ],
      ],
    },
    {
      file: "src/service/subscription/batches.ts",
      replace: [
        [
          "  encode: EventEncoder = encodeEvent,\n): Generator<readonly [SubscribeResponse, Event]> {\n  if (encoding === \"json\") {",
          "  encode: EventEncoder = encodeEvent,\n  peek?: (event: Event) => Uint8Array | undefined,\n): Generator<readonly [SubscribeResponse, Event]> {\n  if (encode === encodeEvent && peek !== undefined && events.every((e) => peek(e) !== undefined)) encode = (e) => peek(e)!;\n  if (encoding === \"json\" || encode === encodeEvent) {",
        ],
      ],
    },
    {
      file: "src/service/subscription/subscribe.ts",
      replace: [
        [
          "eventBatches(events, spec.encoding, options)) {",
          "eventBatches(events, spec.encoding, options, encodeEvent, (encodeLive as { peek?: (e: Event) => Uint8Array | undefined }).peek)) {",
        ],
      ],
    },
    { file: "src/service/event-store-service.ts" },
    { file: "src/server.ts" },
  ],
};

export const variants: readonly Variant[] = [noopAppend, catchUpBatchEncode, catchUpShared];

// Applied and retired (bench/OPTIMISATIONS.md): "lean-call-end" and "lean-context" (a
// lean grpc-js HandlerContext: 1.35× and 1.72× rpc/s at 64 in flight), "shared-encoding"
// (live events encoded once for every subscriber: 3.49× deliveries/s to 100 subscribers).
