// A generic adapter from Connect-style handlers to @grpc/grpc-js, driven by a
// protobuf-es service descriptor (ADR 0006). For each method of the service:
//   - (de)serialization by the compiled codec (src/codec: protobuf-es's messages
//     and bytes, without its per-field reflection); a request that does not parse
//     is INVALID_ARGUMENT (the deserializer passes bytes through, the handler
//     parses); a handler's result is encoded as it is, without create();
//   - the handler gets a HandlerContext whose signal fires on client
//     cancellation, on the deadline and on server shutdown; the signal is made
//     when first read, and `cancellationReason` (src/service/cancellation.ts)
//     answers without it;
//   - a ConnectError becomes the gRPC status code, message and, in the
//     grpc-status-details-bin trailer, a google.rpc.Status with the typed
//     details (what Connect's own gRPC protocol sends);
//   - server streams honour backpressure: when write() returns false the next
//     message is only pulled from the handler after 'drain'.
// Unary and server-streaming methods only (all runlog.v1 has).
import type { DescMessage, DescMethod, DescService } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  createContextValues,
  type ContextValues,
  type HandlerContext,
  type ServiceImpl,
} from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { codecFor, requestDecoderFor } from "../codec/codec.js";
import type { Logger } from "../logger.js";
import { cancellation } from "../service/cancellation.js";
import { rememberReceived } from "../service/received-bytes.js";
import { detailsAsAny, encodeRpcStatus } from "./grpc-status.js";

export interface GrpcJsAdapterOptions {
  /** Aborting it aborts every call's signal with its reason (e.g. a ConnectError UNAVAILABLE). */
  readonly shutdownSignal?: AbortSignal;
  readonly logger: Logger;
}

export interface GrpcJsService {
  readonly definition: grpc.ServiceDefinition;
  readonly implementation: grpc.UntypedServiceImplementation;
}

export const statusDetailsKey = "grpc-status-details-bin";

type AnyUnary = (request: unknown, context: HandlerContext) => unknown;
type AnyServerStream = (request: unknown, context: HandlerContext) => AsyncIterable<unknown>;

export function createGrpcJsService<S extends DescService>(
  service: S,
  impl: ServiceImpl<S>,
  options: GrpcJsAdapterOptions,
): GrpcJsService {
  const definition: Record<string, grpc.MethodDefinition<Buffer, unknown>> = {};
  const implementation: grpc.UntypedServiceImplementation = {};
  const calls = createCallRegistry(options.shutdownSignal);
  for (const method of service.methods) {
    const fn = (impl as Record<string, unknown>)[method.localName];
    if (typeof fn !== "function") throw new Error(`${service.typeName}.${method.name} has no implementation`);
    const path = `/${service.typeName}/${method.name}`;
    const output = codecFor(method.output as DescMessage);
    definition[method.name] = {
      path,
      requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
      responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
      requestSerialize: (bytes: Buffer) => bytes,
      // Parsed in the handler, so that a malformed request is INVALID_ARGUMENT, not INTERNAL.
      requestDeserialize: (bytes: Buffer) => bytes,
      responseSerialize: (message: unknown) => output.encode(message as never),
      responseDeserialize: (bytes: Buffer) => output.decode(bytes),
      originalName: method.localName,
    };
    switch (method.methodKind) {
      case "unary":
        implementation[method.name] = unaryHandler(method, (fn as AnyUnary).bind(impl), calls, options.logger);
        break;
      case "server_streaming":
        implementation[method.name] = serverStreamHandler(method, (fn as AnyServerStream).bind(impl), calls, options.logger);
        break;
      default:
        throw new Error(`${service.typeName}.${method.name}: ${method.methodKind} methods are not supported`);
    }
  }
  return { definition, implementation };
}

// The per-call code below creates no closures of its own: under tsx every named
// closure costs a helper call, and these run for every call (bench/OPTIMISATIONS.md).

function unaryHandler(method: DescMethod, fn: AnyUnary, calls: CallRegistry, logger: Logger): grpc.handleUnaryCall<Buffer, unknown> {
  return (call, callback) => {
    const context = new GrpcCallContext(call, method, calls);
    runUnary(method, fn, call.request, context).then(
      (message) => {
        context.release();
        callback(null, message);
      },
      (error: unknown) => {
        context.release();
        callback(toServiceError(error, logger, method));
      },
    );
  };
}

function runUnary(method: DescMethod, fn: AnyUnary, request: Buffer, context: GrpcCallContext): Promise<unknown> {
  try {
    return Promise.resolve(fn(parseRequest(method, request), context));
  } catch (error) {
    return Promise.reject(error);
  }
}

function serverStreamHandler(
  method: DescMethod,
  fn: AnyServerStream,
  calls: CallRegistry,
  logger: Logger,
): grpc.handleServerStreamingCall<Buffer, unknown> {
  return (call) => {
    const context = new GrpcCallContext(call, method, calls);
    runServerStream(method, fn, call, context).then(
      () => {
        context.release();
        if (!call.cancelled) call.end();
      },
      (error: unknown) => {
        context.release();
        // A cancelled call has no one to tell; grpc-js already ended it.
        if (!call.cancelled) call.emit("error", toServiceError(error, logger, method));
      },
    );
  };
}

async function runServerStream(
  method: DescMethod,
  fn: AnyServerStream,
  call: grpc.ServerWritableStream<Buffer, unknown>,
  context: GrpcCallContext,
): Promise<void> {
  for await (const output of fn(parseRequest(method, call.request), context)) {
    if (call.cancelled) break;
    if (!call.write(output)) await drained(call, context.signal);
  }
}

/** Resolves on 'drain'', or when the call's signal aborts (then the loop ends on its own). */
function drained(call: grpc.ServerWritableStream<Buffer, unknown>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      call.off("drain", done);
      call.off("close", done);
      signal.removeEventListener("abort", done);
      resolve();
    };
    call.on("drain", done);
    call.on("close", done);
    signal.addEventListener("abort", done);
  });
}

type AnyServerCall = grpc.ServerUnaryCall<Buffer, unknown> | grpc.ServerWritableStream<Buffer, unknown>;

/**
 * The calls of one adapter that are running, so that shutdown aborts them all:
 * one Set entry per call instead of a listener on the shutdown signal (an
 * EventTarget add and remove per call showed in the unary profile).
 */
interface CallRegistry {
  /** The shutdown reason, once the shutdown signal fired. */
  readonly shutdown: AbortSignal | undefined;
  readonly running: Set<GrpcCallContext>;
}

function createCallRegistry(shutdown: AbortSignal | undefined): CallRegistry {
  const running = new Set<GrpcCallContext>();
  shutdown?.addEventListener(
    "abort",
    () => {
      for (const context of running) context.abort(shutdown.reason);
      running.clear();
    },
    { once: true },
  );
  return { shutdown, running };
}

/**
 * A client whose deadline passes cancels the call itself (RST_STREAM), and its
 * clock started before the request left: the cancel can reach the server before
 * the server's own deadline (counted from receipt) passes. A cancel this close
 * to the deadline is taken as the deadline.
 */
const deadlineCancelMarginMs = 50;

/**
 * Connect's HandlerContext for a grpc-js call, built lean for the hot path:
 * headers are converted only when a handler reads them, and no timer is set
 * (grpc-js enforces the deadline itself and reports it as 'cancelled').
 * The signal fires when the client cancels or goes away, when the deadline
 * passes (reason: DEADLINE_EXCEEDED), and on shutdown (the shutdown signal's
 * reason); unlike Connect's own contexts, not when the call ends normally.
 * It is made when first read: most unary calls only ask `[cancellation]()`.
 */
class GrpcCallContext implements HandlerContext {
  readonly method: DescMethod;
  readonly service: DescService;
  readonly requestMethod = "POST";
  readonly protocolName = "grpc";
  private controller: AbortController | undefined;
  /** Why the call was cancelled, once it was. */
  private reason: unknown;
  private readonly deadlineMs: number;
  private readonly onCancelled: () => void;
  /** Bound: callers pass it on as a plain function (Connect's own contexts allow that). */
  readonly timeoutMs: () => number | undefined;
  private requestHeaders: Headers | undefined;
  private responseHeaders: Headers | undefined;
  private responseTrailers: Headers | undefined;
  private contextValues: ContextValues | undefined;

  constructor(
    private readonly call: AnyServerCall,
    method: DescMethod,
    private readonly calls: CallRegistry,
  ) {
    this.method = method;
    this.service = method.parent;
    const deadline = call.getDeadline();
    this.deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
    this.onCancelled = this.cancelled.bind(this);
    this.timeoutMs = this.timeLeft.bind(this);
    call.once("cancelled", this.onCancelled);
    if (calls.shutdown?.aborted) this.abort(calls.shutdown.reason);
    else calls.running.add(this);
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.reason !== undefined) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  [cancellation](): unknown {
    return this.reason;
  }

  /** Cancels the call with `reason` (the first reason stays). */
  abort(reason: unknown): void {
    if (this.reason !== undefined) return;
    this.reason = reason ?? new ConnectError("the call was cancelled", Code.Canceled);
    this.controller?.abort(this.reason);
  }

  private cancelled(): void {
    this.abort(
      Number.isFinite(this.deadlineMs) && Date.now() >= this.deadlineMs - deadlineCancelMarginMs
        ? new ConnectError("the deadline passed", Code.DeadlineExceeded)
        : new ConnectError("the client cancelled the call", Code.Canceled),
    );
  }

  private timeLeft(): number | undefined {
    return Number.isFinite(this.deadlineMs) ? this.deadlineMs - Date.now() : undefined;
  }

  get url(): string {
    return `http://${this.call.getHost()}/${this.service.typeName}/${this.method.name}`;
  }

  get requestHeader(): Headers {
    return (this.requestHeaders ??= metadataToHeaders(this.call.metadata));
  }

  get responseHeader(): Headers {
    return (this.responseHeaders ??= new Headers());
  }

  get responseTrailer(): Headers {
    return (this.responseTrailers ??= new Headers());
  }

  get values(): ContextValues {
    return (this.contextValues ??= createContextValues());
  }

  /** Lets go of the call's listeners when it is over. */
  release(): void {
    this.call.off("cancelled", this.onCancelled);
    this.calls.running.delete(this);
  }
}

function metadataToHeaders(metadata: grpc.Metadata): Headers {
  const headers = new Headers();
  for (const [key, values] of Object.entries(metadata.toJSON())) {
    for (const value of values) {
      headers.append(key, typeof value === "string" ? value : Buffer.from(value).toString("base64"));
    }
  }
  return headers;
}

function parseRequest(method: DescMethod, bytes: Buffer): unknown {
  try {
    const request = requestDecoderFor(method.input)(bytes);
    rememberReceived(request as object, bytes);
    return request;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new ConnectError(`cannot parse ${method.input.typeName}: ${message}`, Code.InvalidArgument);
  }
}

/** A grpc-js status for an error: code, message, and the details as google.rpc.Status. */
export function toServiceError(error: unknown, logger: Logger, method: DescMethod): Partial<grpc.StatusObject> {
  let connectError: ConnectError;
  if (error instanceof ConnectError) connectError = error;
  else {
    logger.error({ err: error, method: method.name }, "internal error");
    connectError = new ConnectError("internal error", Code.Internal);
  }
  const metadata = new grpc.Metadata();
  if (connectError.details.length > 0) {
    const status = encodeRpcStatus({
      code: connectError.code,
      message: connectError.rawMessage,
      details: detailsAsAny(connectError),
    });
    metadata.set(statusDetailsKey, asBuffer(status));
  }
  // Connect's Code numbers are gRPC's status codes.
  return { code: connectError.code as number as grpc.status, details: connectError.rawMessage, metadata };
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
