// A plain @grpc/grpc-js client built only from the generated descriptors
// (makeGenericClientConstructor with protobuf-es toBinary / fromBinary): an
// independent gRPC implementation. asConnectClient() gives it the shape of a
// connect-es Client, errors as ConnectErrors with the details decoded from
// grpc-status-details-bin, so that the same scenarios run over every transport.
import { create, fromBinary, toBinary, type DescMessage, type DescService, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type CallOptions, type Client } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { decodeRpcStatus } from "../../src/transport/grpc-status.js";

export function grpcJsServiceDefinition(service: DescService): grpc.ServiceDefinition {
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) {
    const input = method.input as DescMessage;
    const output = method.output as DescMessage;
    definition[method.name] = {
      path: `/${service.typeName}/${method.name}`,
      requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
      responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
      requestSerialize: (message: unknown) => Buffer.from(toBinary(input, create(input, message as never))),
      requestDeserialize: (bytes: Buffer) => fromBinary(input, bytes),
      responseSerialize: (message: unknown) => Buffer.from(toBinary(output, message as never)),
      responseDeserialize: (bytes: Buffer) => fromBinary(output, bytes),
      originalName: method.localName,
    };
  }
  return definition;
}

export function createGrpcJsClient(service: DescService, address: string, options: grpc.ClientOptions = {}): grpc.Client {
  const Constructor = grpc.makeGenericClientConstructor(grpcJsServiceDefinition(service), service.typeName);
  return new Constructor(address, grpc.credentials.createInsecure(), options);
}

/** A grpc-js ServiceError as a ConnectError with the wire's details. */
export function toConnectError(error: grpc.ServiceError): ConnectError {
  const result = new ConnectError(error.details, error.code as number as Code);
  const bin = error.metadata?.get("grpc-status-details-bin")[0];
  if (bin !== undefined && typeof bin !== "string") {
    const status = decodeRpcStatus(bin);
    result.details = status.details.map((any) => ({
      type: any.typeUrl.slice(any.typeUrl.lastIndexOf("/") + 1),
      value: any.value,
    }));
  }
  return result;
}

const isServiceError = (e: unknown): e is grpc.ServiceError =>
  e instanceof Error && typeof (e as { code?: unknown }).code === "number" && "metadata" in e;

/** The grpc-js client in the shape of a connect-es Client. */
export function asConnectClient<S extends DescService>(service: S, client: grpc.Client): Client<S> {
  const result: Record<string, unknown> = {};
  for (const method of service.methods) {
    const fn = (client as unknown as Record<string, (...args: unknown[]) => unknown>)[method.name]!.bind(client);
    const grpcOptions = (options?: CallOptions): grpc.CallOptions =>
      options?.timeoutMs !== undefined ? { deadline: Date.now() + options.timeoutMs } : {};
    if (method.methodKind === "unary") {
      result[method.localName] = (request: MessageInitShape<DescMessage>, options?: CallOptions) =>
        new Promise((resolve, reject) => {
          const call = fn(request, new grpc.Metadata(), grpcOptions(options), (error: grpc.ServiceError | null, response: unknown) =>
            error ? reject(toConnectError(error)) : resolve(response),
          ) as grpc.ClientUnaryCall;
          options?.signal?.addEventListener("abort", () => call.cancel());
        });
    } else {
      result[method.localName] = (request: MessageInitShape<DescMessage>, options?: CallOptions) =>
        (async function* () {
          const call = fn(request, new grpc.Metadata(), grpcOptions(options)) as grpc.ClientReadableStream<unknown>;
          const cancel = () => call.cancel();
          options?.signal?.addEventListener("abort", cancel);
          try {
            for await (const message of call) yield message;
          } catch (error) {
            throw isServiceError(error) ? toConnectError(error) : error;
          } finally {
            options?.signal?.removeEventListener("abort", cancel);
            call.cancel();
          }
        })();
    }
  }
  return result as Client<S>;
}
