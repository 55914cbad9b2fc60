// Graceful shutdown: health NOT_SERVING, live streams end with UNAVAILABLE on
// both ports, running unary calls finish, stop() returns within the grace time,
// and a call that outlives the grace time is cut off.
import { Code, ConnectError } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";
import { describe, expect, it } from "vitest";
import { UnavailableError } from "../../src/errors.js";
import type { EventStore } from "../../src/store/event-store.js";
import { createMemoryEventStore } from "../../src/store/memory/memory-event-store.js";
import { clientKind } from "../support/clients.js";
import { customEvent, uniqueRunId } from "../support/events.js";
import { startTestServer } from "../support/server.js";
import { caughtUp, subscribe } from "../support/subscriber.js";

/** A memory store whose appends to runs named "slow-<ms>-…" take that long. */
function slowStore(): EventStore {
  const store = createMemoryEventStore();
  return {
    ...store,
    async append(events, options) {
      const slow = /^slow-(\d+)-/.exec(events[0]?.runId ?? "");
      if (slow) await new Promise((r) => setTimeout(r, Number(slow[1])));
      return store.append(events, options);
    },
  };
}

function watchHealth(port: number): { statuses: string[]; close(): void } {
  const Health = grpc.makeGenericClientConstructor(healthService, "Health");
  const client = new Health(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
    watch(request: { service: string }): grpc.ClientReadableStream<{ status: string }>;
  };
  const statuses: string[] = [];
  const call = client.watch({ service: "runlog.v1.EventStore" });
  call.on("data", (r: { status: string }) => statuses.push(r.status));
  call.on("error", () => undefined);
  return { statuses, close: () => client.close() };
}

describe("graceful shutdown", () => {
  it("ends streams with UNAVAILABLE, lets running calls finish, and stops within the grace time", async () => {
    const store = slowStore();
    const server = await startTestServer({ shutdownGraceMs: 3_000 }, { store });
    const grpcJs = clientKind("grpc-js").create(server);
    const httpGrpc = clientKind("connect-node gRPC → HTTP port").create(server);
    const httpConnect = clientKind("Connect binary").create(server);
    const health = watchHealth(server.grpcPort);
    try {
      const streams = [grpcJs, httpGrpc, httpConnect].map(({ client }) => subscribe(client, {}));
      await Promise.all(streams.map((s) => s.until(caughtUp)));
      await expect.poll(() => health.statuses).toEqual(["SERVING"]);

      // Two appends in flight (each takes 600 ms in the store) when the stop begins.
      const slowRuns = [uniqueRunId("slow-600"), uniqueRunId("slow-600")];
      const running = [
        grpcJs.client.append({ event: customEvent(slowRuns[0]!, { name: "a" }) }),
        httpConnect.client.append({ event: customEvent(slowRuns[1]!, { name: "b" }) }),
      ];
      await new Promise((r) => setTimeout(r, 100));
      const started = Date.now();
      await server.stop();
      const stopMs = Date.now() - started;

      // The running calls finished normally.
      const results = await Promise.all(running);
      expect(results.map((r) => r.event?.sequence)).toEqual([1n, 1n]);
      expect(stopMs).toBeGreaterThanOrEqual(400);
      expect(stopMs).toBeLessThan(3_000);
      // Every live stream ended with UNAVAILABLE, so that clients resume elsewhere.
      for (const stream of streams) {
        await expect.poll(() => stream.ended).toBe(true);
        expect(stream.error).toBeInstanceOf(ConnectError);
        expect((stream.error as ConnectError).code).toBe(Code.Unavailable);
      }
      expect(health.statuses).toContain("NOT_SERVING");
      // Nothing is served any more, and the store is closed.
      await expect(grpcJs.client.getLastSequence({ runId: "x" })).rejects.toMatchObject({ code: Code.Unavailable });
      await expect(server.store.headPosition()).rejects.toBeInstanceOf(UnavailableError);
    } finally {
      health.close();
      [grpcJs, httpGrpc, httpConnect].forEach((c) => c.close());
      await server.stop();
    }
  });

  it("cuts off a call that outlives the grace time", async () => {
    const server = await startTestServer({ shutdownGraceMs: 300 }, { store: slowStore() });
    const { client, close } = clientKind("grpc-js").create(server);
    try {
      const stuck = client.append({ event: customEvent(uniqueRunId("slow-5000"), { name: "stuck" }) });
      const outcome = stuck.then(
        () => "ok",
        (e: ConnectError) => e.code,
      );
      await new Promise((r) => setTimeout(r, 100));
      const started = Date.now();
      await server.stop();
      expect(Date.now() - started).toBeLessThan(1_500);
      expect(await outcome).not.toBe("ok");
    } finally {
      close();
    }
  });
});
