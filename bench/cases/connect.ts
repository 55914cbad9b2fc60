// Over the wire: unary Append on runlog's HTTP port (connect-node, Connect
// protocol, binary, HTTP/2 h2c) next to a bare connect-node echo on the same
// stack, both in their own process, both driven by the same connect-node client.
import { create } from "@bufbuild/protobuf";
import { BytesValueSchema } from "@bufbuild/protobuf/wkt";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { AppendRequestSchema, EventStore } from "../../gen/runlog/v1/event_store_pb.js";
import { defineCase, type BenchCase, type CorpusGroup } from "../lib/bench-case.js";
import { EchoService, type EchoServiceType } from "../lib/echo-service.js";
import { repeatableEvent, workflowStarted } from "../lib/history.js";
import { closedLoop } from "../lib/load.js";
import type { ServerProcess } from "../lib/process.js";
import { runlogServerAvailable, startEcho, startRunlog, type Ports } from "../lib/servers.js";
import { durationMs } from "../lib/sizes.js";
import { appendRequestBytes, appendResponseBytes, withServerCpu } from "./grpc.js";

const transport = (port: number) =>
  createConnectTransport({ baseUrl: `http://127.0.0.1:${port}`, httpVersion: "2", useBinaryFormat: true });

let uniq = Date.now() % 1_000_000;

function runlogConnect(lanes: number): BenchCase {
  return defineCase<{ server: ServerProcess<Ports>; client: Client<typeof EventStore>; requests: ReturnType<typeof create<typeof AppendRequestSchema>>[] }>({
    name: `runlog.connect.append.unary.c${lanes}`,
    method: `unary Append on the HTTP port: connect-node client (Connect protocol, binary, HTTP/2 h2c, one connection), ${lanes} call(s) in flight, each lane on its own started run, the same context.updated event as the gRPC case (request message built once per lane); closed loop 2.5 s after a 0.5 s warm-up`,
    metric: "rpc/s",
    better: "higher",
    interleave: `connect.append.c${lanes}`,
    available: runlogServerAvailable,
    async setup(ctx) {
      const server = await startRunlog(ctx);
      const client = createClient(EventStore, transport(server.info.httpPort));
      const runs = Array.from({ length: lanes }, (_, l) => `cu-${(uniq++).toString(36)}-${l}`);
      await Promise.all(runs.map((r) => client.append({ event: workflowStarted(r) })));
      const requests = runs.map((r) => create(AppendRequestSchema, { event: repeatableEvent(r) }));
      await closedLoop(lanes, 500, (lane) => client.append(requests[lane]!).then(() => 1));
      return { server, client, requests };
    },
    async run(s, ctx) {
      const r = await withServerCpu(s.server, () => closedLoop(lanes, durationMs(ctx), (lane) => s.client.append(s.requests[lane]!).then(() => 1)));
      return { "rpc/s": r.perSecond, "p50 ms": r.latency.percentile(0.5), "p99 ms": r.latency.percentile(0.99), "server CPU µs/call": r.serverUsPerOp, "server CPU %": r.serverCpu * 100 };
    },
    teardown: (s) => s.server.stop(),
  });
}

function echoConnect(lanes: number): BenchCase {
  return defineCase<{ server: ServerProcess<Ports>; client: Client<EchoServiceType> }>({
    name: `ceiling.connect.echo.unary.c${lanes}`,
    method: `bare connect-node echo (Connect protocol, binary, node:http2 h2c server, handler answers at once) in its own process: a BytesValue request of ${appendRequestBytes} bytes and a ${appendResponseBytes}-byte response, the same client stack, ${lanes} in flight, closed loop 2.5 s after a 0.5 s warm-up. runlog's HTTP port adds a first-bytes sniffer (HTTP/2 preface vs HTTP/1.1) in front of the same adapter`,
    metric: "rpc/s",
    better: "higher",
    interleave: `connect.append.c${lanes}`,
    async setup(ctx) {
      const server = await startEcho(ctx, appendResponseBytes);
      const client = createClient(EchoService, transport(server.info.httpPort));
      const request = create(BytesValueSchema, { value: new Uint8Array(appendRequestBytes - 3) });
      await closedLoop(lanes, 500, () => client.echo(request).then(() => 1));
      return { server, client, request };
    },
    async run(s, ctx) {
      const request = create(BytesValueSchema, { value: new Uint8Array(appendRequestBytes - 3) });
      const r = await withServerCpu(s.server, () => closedLoop(lanes, durationMs(ctx), () => s.client.echo(request).then(() => 1)));
      return { "rpc/s": r.perSecond, "p50 ms": r.latency.percentile(0.5), "p99 ms": r.latency.percentile(0.99), "server CPU µs/call": r.serverUsPerOp, "server CPU %": r.serverCpu * 100 };
    },
    teardown: (s) => s.server.stop(),
  });
}

export const connectCases: CorpusGroup = {
  group: "over the wire: HTTP port (connect-node), memory store",
  cases: [echoConnect(1), runlogConnect(1), echoConnect(16), runlogConnect(16), echoConnect(64), runlogConnect(64)],
  ratios: [
    { name: "Connect unary Append c1: runlog / connect-node echo", numerator: "runlog.connect.append.unary.c1", denominator: "ceiling.connect.echo.unary.c1" },
    { name: "Connect unary Append c16: runlog / connect-node echo", numerator: "runlog.connect.append.unary.c16", denominator: "ceiling.connect.echo.unary.c16" },
    { name: "Connect unary Append c64: runlog / connect-node echo", numerator: "runlog.connect.append.unary.c64", denominator: "ceiling.connect.echo.unary.c64" },
    { name: "echo c64: connect-node / grpc-js (ADR 0006 split)", numerator: "ceiling.connect.echo.unary.c64", denominator: "ceiling.grpc-js.echo.unary.c64" },
  ],
};
