// The gRPC port opens wide HTTP/2 receive windows (grpc-server.ts), which grpc-js's
// server has no option for: a raw HTTP/2 client sees them in the server's SETTINGS
// and in the connection window it may fill.
import { connect, type ClientHttp2Session } from "node:http2";
import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/server.js";
import { connectionWindowBytes, streamWindowBytes } from "../../src/transport/grpc-server.js";
import { startTestServer } from "../support/server.js";

let server: RunningServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.stop();
});

async function session(): Promise<ClientHttp2Session> {
  const client = connect(`http://127.0.0.1:${server.grpcPort}`);
  await once(client, "connect");
  return client;
}

describe("gRPC port: HTTP/2 flow-control windows", () => {
  it("advertises a 1 MiB window per stream and 4 MiB for the connection", async () => {
    const client = await session();
    try {
      for (let i = 0; i < 50 && client.remoteSettings.initialWindowSize !== streamWindowBytes; i++) await once(client, "remoteSettings");
      expect(client.remoteSettings.initialWindowSize).toBe(streamWindowBytes);
      for (let i = 0; i < 50 && (client.state.remoteWindowSize ?? 0) < connectionWindowBytes; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(client.state.remoteWindowSize).toBe(connectionWindowBytes);
      expect(connectionWindowBytes).toBeGreaterThan(65_535);
    } finally {
      client.close();
    }
  });
});
