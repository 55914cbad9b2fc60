// The call gate counts a server stream as in flight from its first read until it
// ends, exactly once however it ends, and turns streams away once closed.
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { EventStore } from "../../gen/runlog/v1/event_store_pb.js";
import { createCallGate } from "../../src/transport/call-gate.js";

const context = {} as HandlerContext;

/** A gated Subscribe whose stream yields two messages, then ends or (fail) throws. */
function gatedSubscribe(fail?: Error) {
  const gate = createCallGate();
  const impl = gate.wrap(EventStore, {
    async *subscribe() {
      yield {};
      yield {};
      if (fail) throw fail;
    },
  } as Partial<ServiceImpl<typeof EventStore>> as ServiceImpl<typeof EventStore>);
  return { gate, subscribe: () => impl.subscribe({} as never, context)[Symbol.asyncIterator]() };
}

describe("call gate, server streams", () => {
  it("in flight from the first read until the stream ends", async () => {
    const { gate, subscribe } = gatedSubscribe();
    const stream = subscribe();
    expect(gate.inFlight).toBe(0);
    await stream.next();
    expect(gate.inFlight).toBe(1);
    const idle = gate.idle();
    await stream.next();
    expect(await stream.next()).toMatchObject({ done: true });
    expect(gate.inFlight).toBe(0);
    await idle;
    await stream.return!();
    expect(gate.inFlight).toBe(0);
  });

  it("released once when the stream throws", async () => {
    const fail = new Error("boom");
    const { gate, subscribe } = gatedSubscribe(fail);
    const stream = subscribe();
    await stream.next();
    await stream.next();
    await expect(stream.next()).rejects.toBe(fail);
    expect(gate.inFlight).toBe(0);
    await stream.return!();
    expect(gate.inFlight).toBe(0);
  });

  it("released once when the consumer returns early", async () => {
    const { gate, subscribe } = gatedSubscribe();
    const stream = subscribe();
    await stream.next();
    await stream.return!();
    expect(gate.inFlight).toBe(0);
    await stream.return!();
    expect(gate.inFlight).toBe(0);
  });

  it("closed: a new stream fails UNAVAILABLE on its first read and is never counted", async () => {
    const { gate, subscribe } = gatedSubscribe();
    const running = subscribe();
    await running.next();
    gate.close();
    await expect(subscribe().next()).rejects.toSatisfy((e: unknown) => e instanceof ConnectError && e.code === Code.Unavailable);
    expect(gate.inFlight).toBe(1);
    await running.return!();
    expect(gate.inFlight).toBe(0);
  });
});
