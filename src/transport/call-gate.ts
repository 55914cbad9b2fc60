// Counts the calls a service is serving, so that shutdown can wait for them,
// and turns new calls away (UNAVAILABLE) once closed. Wraps any ServiceImpl:
// both servers mount the gated implementation, so one gate sees every call.
import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { onStreamEnd } from "../stream-end.js";

export interface CallGate {
  /** Calls running now (streams until their handler ends). */
  readonly inFlight: number;
  wrap<S extends DescService>(service: S, impl: ServiceImpl<S>): ServiceImpl<S>;
  /** From now on every new call fails with UNAVAILABLE. */
  close(): void;
  /** Resolves when no call is running (immediately if none is). */
  idle(): Promise<void>;
}

type Unary = (request: unknown, context: HandlerContext) => unknown;
type Stream = (request: unknown, context: HandlerContext) => AsyncIterable<unknown>;

export function createCallGate(): CallGate {
  let inFlight = 0;
  let closed = false;
  let waiters: (() => void)[] = [];

  const enter = () => {
    if (closed) throw new ConnectError("the server is shutting down", Code.Unavailable);
    inFlight++;
  };
  const leave = () => {
    inFlight--;
    if (inFlight === 0 && waiters.length > 0) {
      const w = waiters;
      waiters = [];
      w.forEach((resolve) => resolve());
    }
  };
  const streamEnd = { end: leave };

  return {
    get inFlight() {
      return inFlight;
    },
    wrap(service, impl) {
      const gated: Record<string, unknown> = {};
      for (const method of service.methods) {
        const fn = (impl as Record<string, unknown>)[method.localName];
        if (typeof fn !== "function") continue;
        if (method.methodKind === "unary") {
          const call = (fn as Unary).bind(impl);
          gated[method.localName] = async (request: unknown, context: HandlerContext) => {
            enter();
            try {
              return await call(request, context);
            } finally {
              leave();
            }
          };
        } else {
          const call = (fn as Stream).bind(impl);
          // Not a generator around the stream: that level would cost every message (stream-end.ts).
          gated[method.localName] = (request: unknown, context: HandlerContext) =>
            onStreamEnd(() => {
              enter();
              try {
                return call(request, context)[Symbol.asyncIterator]();
              } catch (error) {
                leave();
                throw error;
              }
            }, streamEnd);
        }
      }
      return gated as ServiceImpl<typeof service>;
    },
    close() {
      closed = true;
    },
    idle() {
      if (inFlight === 0) return Promise.resolve();
      return new Promise((resolve) => waiters.push(resolve));
    },
  };
}
