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

export const variants: readonly Variant[] = [noopAppend, catchUpBatchEncode];

// Applied and retired (bench/OPTIMISATIONS.md): "lean-call-end" and "lean-context" (a
// lean grpc-js HandlerContext: 1.35× and 1.72× rpc/s at 64 in flight), "shared-encoding"
// (live events encoded once for every subscriber: 3.49× deliveries/s to 100 subscribers).
