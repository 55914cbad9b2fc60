// The benchmark's gRPC client: plain @grpc/grpc-js with identity (de)serializers,
// the same for runlog and for the echo ceiling — requests are encoded before the
// timed loop where the workload allows, responses are scanned, not decoded
// (bench/lib/wire.ts), so that the client process is not what is measured.
import * as grpc from "@grpc/grpc-js";
import { bytesField, forEachField, varintField } from "./wire.js";

export const eventStorePath = (method: string): string => `/runlog.v1.EventStore/${method}`;

const toBuffer = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const identity = (b: Buffer): Buffer => b;

export function rawClient(port: number): grpc.Client {
  return new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
    "grpc.max_receive_message_length": 64 * 1024 * 1024,
    "grpc.max_send_message_length": 64 * 1024 * 1024,
  });
}

export function unary(client: grpc.Client, path: string, request: Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(path, toBuffer, identity, request, (error, response) =>
      error ? reject(error) : resolve(response!),
    );
  });
}

export interface StreamHandle {
  readonly done: Promise<void>;
  cancel(): void;
}

/** A server stream; `onMessage` sees each message's bytes. Resolves on OK or cancel, rejects on other errors. */
export function serverStream(client: grpc.Client, path: string, request: Uint8Array, onMessage: (b: Buffer) => void): StreamHandle {
  const call = client.makeServerStreamRequest(path, toBuffer, identity, request);
  call.on("data", onMessage);
  const done = new Promise<void>((resolve, reject) => {
    call.on("error", (error: grpc.ServiceError) => (error.code === grpc.status.CANCELLED ? resolve() : reject(error)));
    call.on("end", () => resolve());
  });
  done.catch(() => {});
  return { done, cancel: () => call.cancel() };
}

export function isGrpcError(error: unknown, code: grpc.status): error is grpc.ServiceError {
  return typeof error === "object" && error !== null && (error as grpc.ServiceError).code === code;
}

/**
 * The `actual` of a runlog.v1.ConcurrencyConflict detail in an ABORTED error's
 * grpc-status-details-bin trailer (google.rpc.Status), or undefined.
 */
export function conflictActual(error: grpc.ServiceError): number | undefined {
  const raw = error.metadata?.get("grpc-status-details-bin")[0];
  if (raw === undefined || typeof raw === "string") return undefined;
  let actual: number | undefined;
  forEachField(raw, 0, raw.length, (field, start, end) => {
    if (field !== 3 || end < 0) return; // repeated google.protobuf.Any details = 3
    const typeUrl = bytesField(raw, start, end, 1);
    if (!typeUrl || !raw.subarray(typeUrl[0], typeUrl[1]).toString().endsWith("runlog.v1.ConcurrencyConflict")) return;
    const value = bytesField(raw, start, end, 2);
    if (value) actual = varintField(raw, value[0], value[1], 3) ?? 0;
  });
  return actual;
}
