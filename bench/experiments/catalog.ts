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
 * A diagnostic of an applied change (OPTIMISATIONS.md 10): the server with every
 * message (de)serialized by protobuf-es's fromBinary/toBinary again, as before
 * src/codec — the "before" of that change, measured next to the "after".
 */
export const protobufEsCodec: Variant = {
  name: "protobuf-es-codec",
  description:
    "diagnostic: src/codec/codec.ts serves every schema with protobuf-es's fromBinary/toBinary (create() on the handler's result), as the gRPC port, Subscribe and snapshots did before the compiled codec",
  entry: "src/server.ts",
  files: [
    {
      file: "src/codec/codec.ts",
      replace: [["  const reason = unsupportedReason(messages);", '  const reason = unsupportedReason(messages) ?? "protobuf-es-codec variant";']],
    },
    { file: "src/transport/grpc-js-adapter.ts" },
    { file: "src/transport/grpc-server.ts" },
    { file: "src/reconstruct/snapshot-codec.ts" },
    { file: "src/reconstruct/create-reconstructor.ts" },
    { file: "src/service/subscription/shared-encoding.ts" },
    { file: "src/service/subscription/batches.ts" },
    { file: "src/service/subscription/subscribe.ts" },
    { file: "src/service/event-store-service.ts" },
    { file: "src/server.ts" },
  ],
};

export const variants: readonly Variant[] = [noopAppend, protobufEsCodec];

// Applied and retired (bench/OPTIMISATIONS.md): "lean-call-end" and "lean-context" (a
// lean grpc-js HandlerContext: 1.35× and 1.72× rpc/s at 64 in flight), "shared-encoding"
// (live events encoded once for every subscriber: 3.49× deliveries/s to 100 subscribers),
// "catch-up-batch-encode" (catch-up batches encoded with one toBinary: 2.5× events/s).
// Measured without gain and dropped: "catch-up-peek-shared" (catch-up reads reuse the live
// ring's bytes when a whole page hits it: 0.99× deliveries/s to 100 subscribers).
