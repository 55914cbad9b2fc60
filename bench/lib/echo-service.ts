// The ceiling's service, bench.v1.Echo, built at run time from a descriptor so
// that grpc-js and connect-node serve the same paths:
//   rpc Echo(google.protobuf.BytesValue) returns (google.protobuf.BytesValue);
//   rpc Stream(google.protobuf.BytesValue) returns (stream google.protobuf.BytesValue);
// The grpc-js side uses identity (de)serializers on these paths: bytes in, bytes out.
import { create, createFileRegistry } from "@bufbuild/protobuf";
import type { GenService } from "@bufbuild/protobuf/codegenv2";
import { BytesValueSchema, FileDescriptorProtoSchema, file_google_protobuf_wrappers } from "@bufbuild/protobuf/wkt";

const fileProto = create(FileDescriptorProtoSchema, {
  name: "bench/v1/echo.proto",
  package: "bench.v1",
  syntax: "proto3",
  dependency: ["google/protobuf/wrappers.proto"],
  service: [
    {
      name: "Echo",
      method: [
        { name: "Echo", inputType: ".google.protobuf.BytesValue", outputType: ".google.protobuf.BytesValue" },
        {
          name: "Stream",
          inputType: ".google.protobuf.BytesValue",
          outputType: ".google.protobuf.BytesValue",
          serverStreaming: true,
        },
      ],
    },
  ],
});

const registry = createFileRegistry(fileProto, (name) =>
  name === "google/protobuf/wrappers.proto" ? file_google_protobuf_wrappers : undefined,
);

/** Typed as generated code would type it, so that routers and clients are typed. */
export type EchoServiceType = GenService<{
  echo: { methodKind: "unary"; input: typeof BytesValueSchema; output: typeof BytesValueSchema };
  stream: { methodKind: "server_streaming"; input: typeof BytesValueSchema; output: typeof BytesValueSchema };
}>;

export const EchoService = registry.getService("bench.v1.Echo")! as EchoServiceType;
export const echoPath = "/bench.v1.Echo/Echo";
export const streamPath = "/bench.v1.Echo/Stream";
/** gRPC only: a server stream that receives every message published after it opened. */
export const listenPath = "/bench.v1.Echo/Listen";
/** gRPC only: a unary call whose request bytes are written to every open Listen stream. */
export const publishPath = "/bench.v1.Echo/Publish";

/** Stream request (raw bytes on grpc-js): count (uint32 LE), message size (uint32 LE). */
export function encodeStreamRequest(count: number, size: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32LE(count, 0);
  b.writeUInt32LE(size, 4);
  return b;
}

export function decodeStreamRequest(b: Uint8Array): { count: number; size: number } {
  const view = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  return { count: view.readUInt32LE(0), size: view.readUInt32LE(4) };
}
