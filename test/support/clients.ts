// One runlog client per way of reaching the server, all in connect-es's Client
// shape: connect-node's gRPC, Connect (binary, JSON) and gRPC-Web transports on
// the ports they apply to, and a plain grpc-js client on the gRPC port.
import { createClient, type Client, type Transport } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
  Http2SessionManager,
} from "@connectrpc/connect-node";
import { EventStore } from "../../gen/runlog/v1/event_store_pb.js";
import type { RunningServer } from "../../src/server.js";
import { asConnectClient, createGrpcJsClient } from "./grpc-js-client.js";

export type EventStoreClient = Client<typeof EventStore>;

export interface ClientKind {
  readonly name: string;
  readonly port: "grpc" | "http";
  create(server: RunningServer, options?: { maxMessageBytes?: number }): { client: EventStoreClient; close(): void };
}

function viaTransport(make: (baseUrl: string, sessionManager: Http2SessionManager | undefined) => Transport, http2: boolean) {
  return (baseUrl: string) => {
    const sessionManager = http2 ? new Http2SessionManager(baseUrl) : undefined;
    return { client: createClient(EventStore, make(baseUrl, sessionManager)), close: () => sessionManager?.abort() };
  };
}

const url = (server: RunningServer, port: "grpc" | "http") =>
  `http://127.0.0.1:${port === "grpc" ? server.grpcPort : server.httpPort}`;

export const clientKinds: readonly ClientKind[] = [
  {
    name: "connect-node gRPC → gRPC port",
    port: "grpc",
    create: (server, o) =>
      viaTransport(
        (baseUrl, sessionManager) =>
          createGrpcTransport({ baseUrl, sessionManager: sessionManager!, readMaxBytes: o?.maxMessageBytes ?? 64 << 20 }),
        true,
      )(url(server, "grpc")),
  },
  {
    name: "grpc-js → gRPC port",
    port: "grpc",
    create: (server, o) => {
      const raw = createGrpcJsClient(EventStore, `127.0.0.1:${server.grpcPort}`, {
        "grpc.max_receive_message_length": o?.maxMessageBytes ?? 64 << 20,
        "grpc.max_send_message_length": -1,
      });
      return { client: asConnectClient(EventStore, raw), close: () => raw.close() };
    },
  },
  {
    name: "Connect binary, HTTP/1.1 → HTTP port",
    port: "http",
    create: (server) =>
      viaTransport((baseUrl) => createConnectTransport({ baseUrl, httpVersion: "1.1" }), false)(url(server, "http")),
  },
  {
    name: "Connect JSON, HTTP/2 → HTTP port",
    port: "http",
    create: (server) =>
      viaTransport(
        (baseUrl, sessionManager) =>
          createConnectTransport({ baseUrl, httpVersion: "2", useBinaryFormat: false, sessionManager: sessionManager! }),
        true,
      )(url(server, "http")),
  },
  {
    name: "gRPC-Web, HTTP/1.1 → HTTP port",
    port: "http",
    create: (server) =>
      viaTransport((baseUrl) => createGrpcWebTransport({ baseUrl, httpVersion: "1.1" }), false)(url(server, "http")),
  },
  {
    name: "connect-node gRPC → HTTP port",
    port: "http",
    create: (server) =>
      viaTransport(
        (baseUrl, sessionManager) => createGrpcTransport({ baseUrl, sessionManager: sessionManager! }),
        true,
      )(url(server, "http")),
  },
];

export function clientKind(name: string): ClientKind {
  const kind = clientKinds.find((k) => k.name.startsWith(name));
  if (kind === undefined) throw new Error(`no client kind ${name}`);
  return kind;
}
