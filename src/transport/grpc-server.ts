// The native gRPC port: @grpc/grpc-js with runlog.v1.EventStore (through the
// generic adapter), grpc.health.v1 and server reflection v1 / v1alpha.
import type { DescFile, DescService } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import type { Http2Server, ServerHttp2Session } from "node:http2";
import * as grpc from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";
import type { Logger } from "../logger.js";
import { createGrpcJsService } from "./grpc-js-adapter.js";
import { createReflectionService } from "./reflection.js";

export interface GrpcServerOptions<S extends DescService> {
  readonly host: string;
  /** 0: any free port. */
  readonly port: number;
  readonly service: S;
  readonly implementation: ServiceImpl<S>;
  /** Described by reflection besides the service's own files. */
  readonly extraFiles?: readonly DescFile[];
  /** Largest message received or sent; larger: RESOURCE_EXHAUSTED. */
  readonly maxMessageBytes: number;
  readonly shutdownSignal: AbortSignal;
  readonly logger: Logger;
}

export interface GrpcServer {
  readonly port: number;
  /** Health of "" (the server) and of the service. */
  setServing(serving: boolean): void;
  /** Stops accepting calls; resolves when every call has ended. */
  drain(): Promise<void>;
  /** Ends every call and connection now. */
  forceStop(): void;
}

export async function startGrpcServer<S extends DescService>(options: GrpcServerOptions<S>): Promise<GrpcServer> {
  const { service, logger } = options;
  const server = new grpc.Server({
    "grpc.max_receive_message_length": options.maxMessageBytes,
    "grpc.max_send_message_length": options.maxMessageBytes,
    // Channelz counts every call and message (closures and Date.now() per call) for an
    // admin service runlog does not serve: 15 µs of server CPU per unary call (OPTIMISATIONS 24).
    "grpc.enable_channelz": 0,
  });
  const adapted = createGrpcJsService(service, options.implementation, {
    shutdownSignal: options.shutdownSignal,
    logger,
  });
  server.addService(adapted.definition, adapted.implementation);

  const health = new HealthImplementation({ "": "SERVING", [service.typeName]: "SERVING" });
  health.addToServer(server);
  createReflectionService([service], options.extraFiles).addToServer(server);

  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${options.port}`, grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    );
  });

  widenFlowControlWindows(server, logger);

  return {
    port,
    setServing(serving) {
      const status = serving ? "SERVING" : "NOT_SERVING";
      health.setStatus("", status);
      health.setStatus(service.typeName, status);
    },
    drain() {
      return new Promise((resolve) => server.tryShutdown(() => resolve()));
    },
    forceStop() {
      server.forceShutdown();
    },
  };
}

/**
 * HTTP/2 receive windows of every connection: each stream may have this many
 * bytes in flight before the server reads them, and the connection four times
 * as many. Node's default is 64 KiB for both, and grpc-js's server has no option
 * to change it (grpc/grpc-node#3058, open): a client uploading an AppendBatch of
 * a few hundred KiB then waits for a WINDOW_UPDATE every 64 KiB, which a server
 * busy with another batch sends late. 1 MiB per stream is grpc-java's default.
 * Raised from 64 KiB, AppendBatch of 1,000 events went from 224,000 to 259,000
 * events/s (bench/OPTIMISATIONS.md, "HTTP/2 windows").
 */
export const streamWindowBytes = 1024 * 1024;
export const connectionWindowBytes = 4 * streamWindowBytes;

/**
 * Applies the windows to each new session of `server`'s HTTP/2 servers. They are
 * grpc-js internals (its `http2Servers`, a Map keyed by the Node server, pinned
 * by package.json's exact version); if they are not there, the defaults stay
 * and the server says so once (test/transport checks the windows are applied).
 */
function widenFlowControlWindows(server: grpc.Server, logger: Logger): void {
  const http2Servers = (server as unknown as { http2Servers?: Map<Http2Server, unknown> }).http2Servers;
  if (!(http2Servers instanceof Map) || http2Servers.size === 0) {
    logger.warn({}, "grpc-js internals changed: HTTP/2 flow-control windows stay at 64 KiB");
    return;
  }
  for (const http2Server of http2Servers.keys()) {
    http2Server.on("session", (session: ServerHttp2Session) => {
      try {
        session.settings({ initialWindowSize: streamWindowBytes });
        session.setLocalWindowSize(connectionWindowBytes);
      } catch (error) {
        logger.warn({ err: error }, "could not widen an HTTP/2 session's flow-control windows");
      }
    });
  }
}
