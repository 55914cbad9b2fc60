// google.rpc.Status, the payload of the grpc-status-details-bin trailer: the
// code, the message and each detail packed as google.protobuf.Any. The same
// shape Connect's gRPC protocol writes, so every gRPC client (connect-es,
// grpc-go's status.FromError, grpcio's rpc_status) decodes our typed details.
//
//   message Status { int32 code = 1; string message = 2; repeated google.protobuf.Any details = 3; }
//
// google.rpc.Status is not a well-known type in @bufbuild/protobuf, and three
// fields do not justify a generated file: written and read with the wire API.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { anyPack, AnySchema, type Any } from "@bufbuild/protobuf/wkt";
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import type { ConnectError } from "@connectrpc/connect";

export interface RpcStatus {
  readonly code: number;
  readonly message: string;
  readonly details: readonly Any[];
}

/** The error's details as Any messages (outgoing details are packed, incoming ones passed on). */
export function detailsAsAny(error: ConnectError): Any[] {
  return error.details.map((detail) =>
    "desc" in detail
      ? anyPack(detail.desc, create(detail.desc, detail.value))
      : create(AnySchema, { typeUrl: `type.googleapis.com/${detail.type}`, value: detail.value }),
  );
}

export function encodeRpcStatus(status: RpcStatus): Uint8Array {
  const writer = new BinaryWriter();
  if (status.code !== 0) writer.tag(1, WireType.Varint).int32(status.code);
  if (status.message !== "") writer.tag(2, WireType.LengthDelimited).string(status.message);
  for (const detail of status.details) {
    writer.tag(3, WireType.LengthDelimited).bytes(toBinary(AnySchema, detail));
  }
  return writer.finish();
}

/** Decodes a google.rpc.Status; unknown fields are skipped. */
export function decodeRpcStatus(bytes: Uint8Array): RpcStatus {
  const reader = new BinaryReader(bytes);
  let code = 0;
  let message = "";
  const details: Any[] = [];
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.Varint) code = reader.int32();
    else if (field === 2 && wireType === WireType.LengthDelimited) message = reader.string();
    else if (field === 3 && wireType === WireType.LengthDelimited) details.push(fromBinary(AnySchema, reader.bytes()));
    else reader.skip(wireType);
  }
  return { code, message, details };
}
