// gRPC health (grpc.health.v1) and server reflection (v1 and v1alpha) on the
// gRPC port; /healthz and /readyz on the HTTP port.
import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { service as healthService } from "grpc-health-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/server.js";
import { startTestServer } from "../support/server.js";

const require = createRequire(import.meta.url);
const reflectionProtos = join(dirname(require.resolve("@grpc/reflection/package.json")), "build", "proto");

let server: RunningServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.stop();
});

function healthClient(port: number) {
  const Health = grpc.makeGenericClientConstructor(healthService, "Health");
  return new Health(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
    check(request: { service: string }, callback: (error: grpc.ServiceError | null, response: { status: string }) => void): void;
    watch(request: { service: string }): grpc.ClientReadableStream<{ status: string }>;
  };
}

describe("gRPC health", () => {
  it("is SERVING for the server and for runlog.v1.EventStore; NOT_FOUND for others", async () => {
    const client = healthClient(server.grpcPort);
    const check = (service: string) =>
      new Promise<{ status: string } | grpc.ServiceError>((resolve) => client.check({ service }, (e, r) => resolve(e ?? r)));
    expect(await check("")).toEqual({ status: "SERVING" });
    expect(await check("runlog.v1.EventStore")).toEqual({ status: "SERVING" });
    expect(await check("nope.v1.Nothing")).toMatchObject({ code: grpc.status.NOT_FOUND });
    client.close();
  });
});

describe("HTTP liveness and readiness", () => {
  it("answers /healthz and /readyz with 200", async () => {
    for (const path of ["/healthz", "/readyz"]) {
      const response = await fetch(`http://127.0.0.1:${server.httpPort}${path}`);
      expect(response.status, path).toBe(200);
    }
  });
});

type ReflectionResponse = {
  listServicesResponse?: { service: { name: string }[] };
  fileDescriptorResponse?: { fileDescriptorProto: Buffer[] };
  errorResponse?: { errorCode: number; errorMessage: string };
};

/** One request on a reflection stream, its one response. */
async function reflect(version: "v1" | "v1alpha", port: number, request: object): Promise<ReflectionResponse> {
  const definition = loadSync(join(reflectionProtos, "grpc", "reflection", version, "reflection.proto"), {
    includeDirs: [reflectionProtos],
  });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as {
    grpc: { reflection: Record<string, { ServerReflection: grpc.ServiceClientConstructor }> };
  };
  const Client = pkg.grpc.reflection[version]!.ServerReflection;
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
    serverReflectionInfo(): grpc.ClientDuplexStream<object, ReflectionResponse>;
  };
  try {
    const call = client.serverReflectionInfo();
    const response = new Promise<ReflectionResponse>((resolve, reject) => {
      call.once("data", resolve);
      call.once("error", reject);
    });
    call.write(request);
    call.end();
    return await response;
  } finally {
    client.close();
  }
}

describe.each(["v1", "v1alpha"] as const)("server reflection %s", (version) => {
  it("lists runlog.v1.EventStore", async () => {
    const response = await reflect(version, server.grpcPort, { listServices: "*" });
    expect(response.listServicesResponse?.service.map((s) => s.name)).toContain("runlog.v1.EventStore");
  });

  it("returns the file descriptor of runlog.v1.EventStore with its imports", async () => {
    const response = await reflect(version, server.grpcPort, { fileContainingSymbol: "runlog.v1.EventStore" });
    const files = response.fileDescriptorResponse!.fileDescriptorProto.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes));
    const names = files.map((f) => f.name);
    expect(names).toContain("runlog/v1/event_store.proto");
    expect(names).toContain("runlog/v1/event.proto");
    expect(names).toContain("google/protobuf/timestamp.proto");
    const service = files.find((f) => f.name === "runlog/v1/event_store.proto")!.service[0]!;
    expect(service.name).toBe("EventStore");
    expect(service.method.map((m) => m.name)).toEqual([
      "Append",
      "AppendBatch",
      "Load",
      "GetLastSequence",
      "ReadLog",
      "Subscribe",
      "GetRunState",
      "ListRuns",
    ]);
    // The error details are described too, for clients that decode them by reflection.
    const details = await reflect(version, server.grpcPort, { fileContainingSymbol: "runlog.v1.ConcurrencyConflict" });
    expect(details.fileDescriptorResponse!.fileDescriptorProto).toHaveLength(1);
  });
});

describe("buf curl through reflection", () => {
  it("lists the methods and calls one without a local schema", async () => {
    const buf = join(process.cwd(), "node_modules", ".bin", "buf");
    const url = `http://127.0.0.1:${server.grpcPort}`;
    const run = promisify(execFile);
    const methods = await run(buf, ["curl", "--protocol", "grpc", "--http2-prior-knowledge", "--list-methods", url]);
    expect(methods.stdout.split("\n")).toContain("runlog.v1.EventStore/Append");
    const call = await run(buf, [
      "curl",
      "--protocol",
      "grpc",
      "--http2-prior-knowledge",
      "--data",
      '{"runId":"nobody"}',
      `${url}/runlog.v1.EventStore/GetLastSequence`,
    ]);
    expect(JSON.parse(call.stdout)).toEqual({});
  });
});
