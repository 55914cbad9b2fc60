// The proposed src/ changes measured as server variants (see variant.ts). Each
// is a patch on the current sources; RESULTS.md and OPTIMISATIONS.md report them
// next to the unpatched server, interleaved repetition by repetition.
import type { Variant } from "./variant.js";

/** The server's chain from the transports up: copied for every variant that patches a transport. */
const serverChain = (extra: Variant["files"]): Variant["files"] => [...extra, { file: "src/server.ts" }];

export const leanCallEnd: Variant = {
  name: "lean-call-end",
  description:
    "src/transport/grpc-js-adapter.ts: end each call's HandlerContext with one preallocated reason (context.abort(callEnded)) instead of context.abort(), which makes AbortController create a DOMException (a stack trace) per call",
  entry: "src/server.ts",
  files: serverChain([
    {
      file: "src/transport/grpc-js-adapter.ts",
      replace: [
        [
          'export const statusDetailsKey = "grpc-status-details-bin";',
          'export const statusDetailsKey = "grpc-status-details-bin";\n\n/** The reason every finished call\'s context is aborted with: one object, no stack trace per call. */\nconst callEnded = new ConnectError("the call ended", Code.Canceled);',
        ],
        [".finally(() => context.abort());", ".finally(() => context.abort(callEnded));"],
      ],
    },
    { file: "src/transport/grpc-server.ts" },
  ]),
};

/**
 * The grpc-js adapter's per-call context without Connect's createHandlerContext:
 * one AbortController per call (client cancel, deadline timer only when the call
 * has a deadline, shutdown), request headers built only when a handler reads them,
 * response headers/trailers created lazily, and the call ended with a preallocated reason.
 */
export const leanContext: Variant = {
  name: "lean-context",
  description:
    "src/transport/grpc-js-adapter.ts handlerContext(): a lean HandlerContext — one AbortController per call (cancel, deadline timer only with a deadline, shutdown listener removed at the end), requestHeader built lazily from the call's Metadata, response headers/trailers lazy, the call ended with one preallocated reason — instead of createHandlerContext (3 AbortControllers, 4 Headers, a DOMException per call)",
  entry: "src/server.ts",
  files: serverChain([
    {
      file: "src/transport/grpc-js-adapter.ts",
      replace: [
        [
          'import { Code, ConnectError, createHandlerContext, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";',
          'import { Code, ConnectError, createContextValues, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";',
        ],
      ],
      replaceBetween: [
        [
          "function handlerContext(call: AnyServerCall",
          "\nfunction metadataToHeaders(",
          `const callEnded = new ConnectError("the call ended", Code.Canceled);
const clientCancelled = new ConnectError("the client cancelled the call", Code.Canceled);
const deadlineExceeded = new ConnectError("the operation timed out", Code.DeadlineExceeded);

function handlerContext(call: AnyServerCall, method: DescMethod, options: GrpcJsAdapterOptions): HandlerContext & { abort(reason?: unknown): void } {
  const controller = new AbortController();
  const shutdown = options.shutdownSignal;
  let timer: NodeJS.Timeout | undefined;
  const end = (reason: unknown) => {
    if (controller.signal.aborted) return;
    if (timer !== undefined) clearTimeout(timer);
    shutdown?.removeEventListener("abort", onShutdown);
    call.removeListener("cancelled", onCancelled);
    controller.abort(reason);
  };
  const onCancelled = () => end(clientCancelled);
  const onShutdown = () => end(shutdown!.reason);
  call.once("cancelled", onCancelled);
  if (shutdown?.aborted) end(shutdown.reason);
  else shutdown?.addEventListener("abort", onShutdown);
  const deadline = call.getDeadline();
  const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
  if (Number.isFinite(deadlineMs)) timer = setTimeout(() => end(deadlineExceeded), Math.max(0, deadlineMs - Date.now()));
  let requestHeader: Headers | undefined;
  let responseHeader: Headers | undefined;
  let responseTrailer: Headers | undefined;
  return {
    service: method.parent,
    method,
    protocolName: "grpc",
    requestMethod: "POST",
    get url() {
      return \`http://\${call.getHost()}/\${method.parent.typeName}/\${method.name}\`;
    },
    signal: controller.signal,
    timeoutMs: () => (Number.isFinite(deadlineMs) ? deadlineMs - Date.now() : undefined),
    get requestHeader() {
      return (requestHeader ??= metadataToHeaders(call.metadata));
    },
    get responseHeader() {
      return (responseHeader ??= new Headers());
    },
    get responseTrailer() {
      return (responseTrailer ??= new Headers());
    },
    values: createContextValues(),
    abort: (reason?: unknown) => end(reason ?? callEnded),
  };
}
`,
        ],
      ],
    },
    { file: "src/transport/grpc-server.ts" },
  ]),
};

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

export const variants: readonly Variant[] = [leanCallEnd, leanContext, noopAppend, sharedEncoding];
