// The gRPC port's call contexts make their AbortSignal only when it is read
// (src/service/cancellation.ts says why). Whether the signal is read before the
// call is cancelled, after, or never, a handler learns the same reason: over a
// real socket, for a deadline, a client that cancels, and a server shutdown.
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { EventStore } from "../../gen/runlog/v1/event_store_pb.js";
import { silentLogger } from "../../src/logger.js";
import { cancellationReason, throwIfCancelled } from "../../src/service/cancellation.js";
import { createGrpcJsService } from "../../src/transport/grpc-js-adapter.js";
import { createGrpcJsClient } from "../support/grpc-js-client.js";

interface Seen {
  /** cancellationReason() before anything was cancelled. */
  before: unknown;
  reason: unknown;
  signalAborted: boolean;
  signalReason: unknown;
  thrown: unknown;
}

type ReadSignal = "first" | "after" | "never";

let server: grpc.Server | undefined;
let client: grpc.Client | undefined;

afterEach(() => {
  client?.close();
  server?.forceShutdown();
  client = server = undefined;
});

/** A server whose GetLastSequence waits until its call is cancelled, then reports what it saw. */
async function start(readSignal: ReadSignal, shutdownSignal?: AbortSignal) {
  let report!: (seen: Seen) => void;
  const seen = new Promise<Seen>((r) => (report = r));
  let entered!: () => void;
  const running = new Promise<void>((r) => (entered = r));
  const unimplemented = () => {
    throw new ConnectError("not in this test", Code.Unimplemented);
  };
  const impl = {
    ...Object.fromEntries(EventStore.methods.map((m) => [m.localName, unimplemented])),
    async getLastSequence(_request: unknown, context: HandlerContext) {
      const before = cancellationReason(context);
      if (readSignal === "first") {
        const signal = context.signal;
        entered();
        await new Promise((r) => signal.addEventListener("abort", r, { once: true }));
      } else {
        entered();
        for (let i = 0; i < 400 && cancellationReason(context) === undefined; i++) await new Promise((r) => setTimeout(r, 5));
      }
      const reason = cancellationReason(context);
      let thrown: unknown;
      try {
        throwIfCancelled(context);
      } catch (error) {
        thrown = error;
      }
      const signal = readSignal === "never" ? undefined : context.signal;
      report({ before, reason, thrown, signalAborted: signal?.aborted ?? false, signalReason: signal?.reason });
      return { lastSequence: 0n };
    },
  } as Partial<ServiceImpl<typeof EventStore>> as ServiceImpl<typeof EventStore>;
  const service = createGrpcJsService(EventStore, impl, { logger: silentLogger, shutdownSignal });
  server = new grpc.Server();
  server.addService(service.definition, service.implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server!.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  client = createGrpcJsClient(EventStore, `127.0.0.1:${port}`);
  return { seen, running, client };
}

function call(c: grpc.Client, options: grpc.CallOptions = {}) {
  const fn = (c as unknown as Record<string, (...args: unknown[]) => grpc.ClientUnaryCall>)["GetLastSequence"]!;
  let handle!: grpc.ClientUnaryCall;
  const done = new Promise<grpc.ServiceError | undefined>((resolve) => {
    handle = fn.call(c, { runId: "r-1" }, new grpc.Metadata(), options, (error: grpc.ServiceError | null) => resolve(error ?? undefined));
  });
  return { handle, done };
}

const expectConnectError = (value: unknown, code: Code) => {
  expect(value).toBeInstanceOf(ConnectError);
  expect((value as ConnectError).code).toBe(code);
};

describe.each<ReadSignal>(["first", "after", "never"])("a gRPC call's cancellation, signal read %s", (readSignal) => {
  it("the deadline: DEADLINE_EXCEEDED, the same reason everywhere", async () => {
    const { seen, client: c } = await start(readSignal);
    const { done } = call(c, { deadline: Date.now() + 150 });
    expect((await done)?.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    const s = await seen;
    expect(s.before).toBeUndefined();
    expectConnectError(s.reason, Code.DeadlineExceeded);
    expect(s.thrown).toBe(s.reason);
    if (readSignal !== "never") {
      expect(s.signalAborted).toBe(true);
      expect(s.signalReason).toBe(s.reason);
    }
  });

  it("the client cancels: CANCELED", async () => {
    const { seen, running, client: c } = await start(readSignal);
    const { handle, done } = call(c);
    await running;
    handle.cancel();
    expect((await done)?.code).toBe(grpc.status.CANCELLED);
    const s = await seen;
    expectConnectError(s.reason, Code.Canceled);
    expect(s.thrown).toBe(s.reason);
    if (readSignal !== "never") expect(s.signalReason).toBe(s.reason);
  });

  it("the client cancels long before its deadline: CANCELED, not the deadline", async () => {
    const { seen, running, client: c } = await start(readSignal);
    const { handle, done } = call(c, { deadline: Date.now() + 10_000 });
    await running;
    handle.cancel();
    expect((await done)?.code).toBe(grpc.status.CANCELLED);
    expectConnectError((await seen).reason, Code.Canceled);
  });

  it("the server shuts down: the shutdown signal's reason", async () => {
    const shutdown = new AbortController();
    const { seen, running, client: c } = await start(readSignal, shutdown.signal);
    const { done } = call(c);
    await running;
    const unavailable = new ConnectError("the server is shutting down", Code.Unavailable);
    shutdown.abort(unavailable);
    const s = await seen;
    expect(s.reason).toBe(unavailable);
    expect(s.thrown).toBe(unavailable);
    if (readSignal !== "never") {
      expect(s.signalAborted).toBe(true);
      expect(s.signalReason).toBe(unavailable);
    }
    await done;
  });
});
