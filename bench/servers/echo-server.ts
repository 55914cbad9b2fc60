// The ceiling: a bare echo server process with the same two stacks runlog
// serves — @grpc/grpc-js on one port, @connectrpc/connect-node on node:http2
// (h2c) on the other — and no store, no validation, no encoding beyond what the
// stack itself does.
//
//   node --import tsx bench/servers/echo-server.ts --response-bytes 60
//
// Prints `@@ready {"grpcPort":…,"httpPort":…}` once both listen.
import http2 from "node:http2";
import { parseArgs } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { BytesValueSchema, type BytesValue } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { EchoService, decodeStreamRequest, echoPath, listenPath, publishPath, streamPath } from "../lib/echo-service.js";
import { announceReady } from "../lib/process.js";

const { values } = parseArgs({ options: { "response-bytes": { type: "string", default: "64" } } });
const responseBytes = Number(values["response-bytes"]);
const response = Buffer.alloc(responseBytes, 7);

const identity = (b: Buffer): Buffer => b;

// Channelz off, as on runlog's gRPC port (OPTIMISATIONS 24): the ceiling is grpc-js at its cheapest.
const server = new grpc.Server({ "grpc.max_receive_message_length": 16 * 1024 * 1024, "grpc.enable_channelz": 0 });
server.register(
  echoPath,
  (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => callback(null, response),
  identity,
  identity,
  "unary",
);
server.register(
  streamPath,
  (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
    const { count, size } = decodeStreamRequest(call.request);
    const message = Buffer.alloc(size, 9);
    let sent = 0;
    const pump = (): void => {
      while (sent < count) {
        sent++;
        if (!call.write(message)) {
          call.once("drain", pump);
          return;
        }
      }
      call.end();
    };
    pump();
  },
  identity,
  identity,
  "serverStream",
);
// The live fan-out ceiling: Publish writes its request bytes to every open Listen
// stream, nothing else (no store, no encoding, no buffer): what grpc-js alone
// costs between an append arriving and its delivery.
const listeners = new Set<grpc.ServerWritableStream<Buffer, Buffer>>();
server.register(
  listenPath,
  (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
    listeners.add(call);
    call.once("cancelled", () => listeners.delete(call));
    call.write(Buffer.alloc(0)); // "listening": the client waits for it before publishing
  },
  identity,
  identity,
  "serverStream",
);
server.register(
  publishPath,
  (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
    for (const listener of listeners) listener.write(call.request);
    callback(null, response);
  },
  identity,
  identity,
  "unary",
);
const grpcPort = await new Promise<number>((resolve, reject) =>
  server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, port) =>
    error ? reject(error) : resolve(port),
  ),
);

const connectResponse = create(BytesValueSchema, { value: new Uint8Array(Math.max(0, responseBytes - 3)) });
const routes = (router: ConnectRouter): void => {
  router.service(EchoService, {
    echo: () => connectResponse,
    async *stream(request: BytesValue) {
      const { count, size } = decodeStreamRequest(request.value);
      const message = create(BytesValueSchema, { value: new Uint8Array(Math.max(0, size - 3)) });
      for (let i = 0; i < count; i++) yield message;
    },
  });
};
const h2 = http2.createServer(connectNodeAdapter({ routes }));
const httpPort = await new Promise<number>((resolve) =>
  h2.listen(0, "127.0.0.1", () => resolve((h2.address() as { port: number }).port)),
);

announceReady({ grpcPort, httpPort });

const shutdown = (): void => {
  server.forceShutdown();
  h2.close();
  setTimeout(() => process.exit(0), 200).unref();
};
process.once("SIGTERM", shutdown);
process.once("SIGINT", shutdown);
