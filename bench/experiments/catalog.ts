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
 * Encode once for every subscriber: the pre-encoded batches of
 * src/service/subscription/batches.ts encode each event per subscription; a small
 * ring of the latest encodings, keyed by the stored Event object (slot = position
 * mod 16,384), lets every subscriber of a live event (and every catch-up reading
 * recent events) reuse one encoding. Bounded memory (16,384 entries), no port change.
 */
export const sharedEncoding: Variant = {
  name: "shared-encoding",
  description:
    "src/service/subscription/batches.ts: eventBatches() takes each event's bytes from a 16,384-slot ring keyed by the stored Event object (slot = position mod 16,384) instead of toBinary() per subscriber; a live event is encoded once however many subscribers receive it",
  entry: "src/server.ts",
  files: [
    {
      file: "src/service/subscription/batches.ts",
      replace: [
        ["    const encoded = toBinary(EventSchema, event);", "    const encoded = encodedOf(event);"],
        [
          "/** Yields [message, last event of the message] pairs for `events`, in order. */",
          `const ringSize = 16_384;
const ringEvents: (Event | undefined)[] = new Array(ringSize);
const ringBytes: (Uint8Array | undefined)[] = new Array(ringSize);

/** The event's encoding, shared by every subscription that sends it while it is recent. */
function encodedOf(event: Event): Uint8Array {
  const slot = Number(event.position) & (ringSize - 1);
  if (ringEvents[slot] === event) return ringBytes[slot]!;
  const bytes = toBinary(EventSchema, event);
  ringEvents[slot] = event;
  ringBytes[slot] = bytes;
  return bytes;
}

/** Yields [message, last event of the message] pairs for \`events\`, in order. */`,
        ],
      ],
    },
    { file: "src/service/subscription/subscribe.ts" },
    { file: "src/service/event-store-service.ts" },
    { file: "src/server.ts" },
  ],
};

export const variants: readonly Variant[] = [noopAppend, sharedEncoding];

// Applied and retired: "lean-call-end" and "lean-context" (a lean grpc-js HandlerContext,
// no DOMException per call) measured 1.35× and 1.72× rpc/s at 64 calls in flight
// before src/transport/grpc-js-adapter.ts adopted the same design; see bench/OPTIMISATIONS.md.
