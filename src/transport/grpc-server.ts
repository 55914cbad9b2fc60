// The native gRPC port: @grpc/grpc-js with runlog.v1.EventStore (through the
// generic adapter), grpc.health.v1 and server reflection v1 / v1alpha.
import type { DescFile, DescService } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
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
