// Bad input over the wire gets the right status, the server stays up, and
// nothing is stored: undecodable protobuf, a wrong content type, oversize
// messages, a 1 ms deadline, a client that goes away mid-stream or mid-request.
// (Unknown enum values: test/service/errors.int.test.ts, on every transport.)
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import * as http2 from "node:http2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppendRequestSchema, SubscribeRequestSchema } from "../../gen/runlog/v1/event_store_pb.js";
import type { RunningServer } from "../../src/server.js";
import type { EventStore } from "../../src/store/event-store.js";
import { createMemoryEventStore } from "../../src/store/memory/memory-event-store.js";
import { clientKind, clientKinds } from "../support/clients.js";
import { customEvent, uniqueRunId, workflowStarted } from "../support/events.js";
import { startTestServer } from "../support/server.js";
import { caughtUp, subscribe } from "../support/subscriber.js";

const maxMessageBytes = 64 * 1024;
let server: RunningServer;
let listeners = 0;

/** A memory store that counts change-feed listeners. */
function countingStore(): EventStore {
  const store = createMemoryEventStore();
  return {
    ...store,
    onAppend(listener) {
      listeners++;
      const remove = store.onAppend(listener);
      return () => {
        listeners--;
        remove();
      };
    },
  };
}

beforeAll(async () => {
  server = await startTestServer({ maxMessageBytes }, { store: countingStore() });
});
afterAll(async () => {
  await server.stop();
});

/** The server is up and has stored nothing since `head`. */
async function nothingStoredSince(head: bigint): Promise<void> {
  const { client, close } = clientKind("grpc-js").create(server);
  try {
    expect((await client.readLog({ limit: 1 })).headPosition).toBe(head);
  } finally {
    close();
  }
}

interface RawResponse {
  status: number;
  headers: http2.IncomingHttpHeaders;
  trailers: http2.IncomingHttpHeaders;
  body: Buffer;
}

/** One raw HTTP/2 request (prior knowledge), as a gRPC client would send it. */
function rawHttp2(port: number, path: string, headers: http2.OutgoingHttpHeaders, body: Uint8Array): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on("error", reject);
    const stream = session.request({ ":method": "POST", ":path": path, te: "trailers", ...headers });
    const chunks: Buffer[] = [];
    let responseHeaders: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    stream.on("response", (h) => (responseHeaders = h));
    stream.on("trailers", (t) => (trailers = t));
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => {
      session.close();
      resolve({ status: Number(responseHeaders[":status"]), headers: responseHeaders, trailers, body: Buffer.concat(chunks) });
    });
    stream.on("error", reject);
    stream.end(Buffer.from(body));
  });
}

/** A gRPC length-prefixed frame. */
function frame(message: Uint8Array): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(message.length, 1);
  return Buffer.concat([header, Buffer.from(message)]);
}

// A trailers-only response carries the status in its headers.
const grpcStatus = (r: RawResponse) => Number(r.trailers["grpc-status"] ?? r.headers["grpc-status"]);
const grpcMessage = (r: RawResponse) => decodeURIComponent(String(r.trailers["grpc-message"] ?? r.headers["grpc-message"]));

describe("undecodable protobuf", () => {
  const valid = toBinary(AppendRequestSchema, create(AppendRequestSchema, { event: workflowStarted(uniqueRunId()) }));
  const truncated = valid.subarray(0, valid.length - 7);
  const garbage = new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02]);

  it.each([
    ["truncated", truncated],
    ["garbage", garbage],
  ])("gRPC port: %s → INVALID_ARGUMENT", async (_, body) => {
    const head = (await server.store.headPosition());
    const response = await rawHttp2(
      server.grpcPort,
      "/runlog.v1.EventStore/Append",
      { "content-type": "application/grpc" },
      frame(body),
    );
    expect(response.status).toBe(200);
    expect(grpcStatus(response)).toBe(Code.InvalidArgument);
    expect(grpcMessage(response)).toContain("cannot parse runlog.v1.AppendRequest");
    await nothingStoredSince(head);
  });

  it.each([
    ["truncated", truncated],
    ["garbage", garbage],
  ])("HTTP port, gRPC protocol: %s → an error status (connect-es: INTERNAL)", async (_, body) => {
    const head = await server.store.headPosition();
    const response = await rawHttp2(
      server.httpPort,
      "/runlog.v1.EventStore/Append",
      { "content-type": "application/grpc" },
      frame(body),
    );
    // connect-es reports a request it cannot decode as INTERNAL ("parse binary: …"), as grpc-go,
    // grpc-java and grpc-js do natively; the gRPC port says INVALID_ARGUMENT.
    expect(grpcStatus(response)).toBe(Code.Internal);
    expect(grpcMessage(response)).toMatch(/^parse binary/);
    await nothingStoredSince(head);
  });

  it("HTTP port, Connect protocol: invalid JSON → 400 invalid_argument", async () => {
    const head = await server.store.headPosition();
    const response = await fetch(`http://127.0.0.1:${server.httpPort}/runlog.v1.EventStore/Append`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"event": {"runId": 12, "workflowStarted": ',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: "invalid_argument" });
    await nothingStoredSince(head);
  });
});

describe("wrong content type", () => {
  it("gRPC port: 415", async () => {
    const response = await rawHttp2(server.grpcPort, "/runlog.v1.EventStore/Append", { "content-type": "application/json" }, Buffer.from("{}"));
    expect(response.status).toBe(415);
  });

  it("HTTP port: 415", async () => {
    const response = await fetch(`http://127.0.0.1:${server.httpPort}/runlog.v1.EventStore/Append`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "{}",
    });
    expect(response.status).toBe(415);
  });
});

describe.each(clientKinds)("$name", (kind) => {
  it("oversize message → RESOURCE_EXHAUSTED, nothing stored", async () => {
    const { client, close } = kind.create(server);
    try {
      const head = await server.store.headPosition();
      const runId = uniqueRunId();
      const big = customEvent(runId, { name: "big", json: "y".repeat(maxMessageBytes + 1) });
      await expect(client.append({ event: big })).rejects.toSatisfy(
        (e: unknown) => e instanceof ConnectError && e.code === Code.ResourceExhausted,
      );
      await nothingStoredSince(head);
    } finally {
      close();
    }
  });

  it("a 1 ms deadline → DEADLINE_EXCEEDED, nothing stored, server up", async () => {
    const { client, close } = kind.create(server);
    try {
      const head = await server.store.headPosition();
      for (let i = 0; i < 5; i++) {
        const error = await client.append({ event: workflowStarted(uniqueRunId()) }, { timeoutMs: 1 }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(ConnectError);
        expect((error as ConnectError).code).toBe(Code.DeadlineExceeded);
      }
      await new Promise((r) => setTimeout(r, 50));
      await nothingStoredSince(head);
    } finally {
      close();
    }
  });
});

describe.each(clientKinds)("a stream's deadline, $name", (kind) => {
  it("ends the stream with DEADLINE_EXCEEDED and releases the subscription", async () => {
    const { client, close } = kind.create(server);
    try {
      await expect.poll(() => listeners).toBe(0);
      const sub = subscribe(client, {}, { timeoutMs: 300 });
      await sub.until(caughtUp);
      expect(listeners).toBe(1);
      await expect.poll(() => sub.ended, { timeout: 5_000 }).toBe(true);
      expect((sub.error as ConnectError).code).toBe(Code.DeadlineExceeded);
      await expect.poll(() => listeners).toBe(0);
    } finally {
      close();
    }
  });
});

describe("a client that goes away", () => {
  it("mid-stream: the subscription is released, the server stays up", async () => {
    await expect.poll(() => listeners).toBe(0);
    const session = http2.connect(`http://127.0.0.1:${server.grpcPort}`);
    const stream = session.request({
      ":method": "POST",
      ":path": "/runlog.v1.EventStore/Subscribe",
      "content-type": "application/grpc",
      te: "trailers",
    });
    stream.end(frame(toBinary(SubscribeRequestSchema, create(SubscribeRequestSchema, {}))));
    await new Promise((resolve) => stream.once("data", resolve)); // caught_up (or events)
    expect(listeners).toBe(1);
    session.destroy(); // no RST_STREAM, no GOAWAY: the connection just drops
    await expect.poll(() => listeners).toBe(0);
    await nothingStoredSince(await server.store.headPosition());
  });

  it("mid-request: nothing is stored, the server stays up", async () => {
    const head = await server.store.headPosition();
    const message = frame(toBinary(AppendRequestSchema, create(AppendRequestSchema, { event: workflowStarted(uniqueRunId()) })));
    for (const port of [server.grpcPort, server.httpPort]) {
      const session = http2.connect(`http://127.0.0.1:${port}`);
      session.on("error", () => undefined);
      const stream = session.request({
        ":method": "POST",
        ":path": "/runlog.v1.EventStore/Append",
        "content-type": "application/grpc",
        te: "trailers",
      });
      stream.on("error", () => undefined);
      stream.write(message.subarray(0, message.length - 3)); // never the rest
      await new Promise((r) => setTimeout(r, 50));
      session.destroy();
    }
    await new Promise((r) => setTimeout(r, 50));
    await nothingStoredSince(head);
  });
});
