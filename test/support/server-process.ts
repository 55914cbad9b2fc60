// A `runlog serve` process for the e2e tier: spawned as a user would run it
// (node --import tsx src/cli/main.ts serve …, ports 0), its bound ports read from
// the "runlog serving" log line (pino JSON on stdout).
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { EventStore } from "../../gen/runlog/v1/event_store_pb.js";
import type { EventStoreClient } from "./clients.js";

export interface ServerProcess {
  readonly pid: number;
  readonly grpcPort: number;
  readonly httpPort: number;
  /** Everything the process wrote, for failure messages. */
  readonly output: string;
  /** A connect-node gRPC client on the gRPC port (closed by stop/kill). */
  readonly client: EventStoreClient;
  /** SIGTERM, wait for the exit; returns the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL, wait for the exit. */
  kill(): Promise<void>;
}

export async function startServerProcess(args: readonly string[], startTimeoutMs = 20_000): Promise<ServerProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    ["--import", "tsx", "src/cli/main.ts", "serve", "--grpc-port", "0", "--http-port", "0", ...args],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env } },
  );
  let output = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  const lines = createInterface({ input: child.stdout! });
  const ports = await new Promise<{ grpcPort: number; httpPort: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`runlog serve did not start in ${startTimeoutMs} ms:\n${output}`)), startTimeoutMs);
    lines.on("line", (line) => {
      output += `${line}\n`;
      let entry: { msg?: string; grpcPort?: number; httpPort?: number };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        return;
      }
      if (entry.msg === "runlog serving" && entry.grpcPort !== undefined && entry.httpPort !== undefined) {
        clearTimeout(timer);
        resolve({ grpcPort: entry.grpcPort, httpPort: entry.httpPort });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`runlog serve exited with ${code} before serving:\n${output}`));
    });
  });
  const sessionManager = new Http2SessionManager(`http://127.0.0.1:${ports.grpcPort}`);
  const client = createClient(
    EventStore,
    createGrpcTransport({ baseUrl: `http://127.0.0.1:${ports.grpcPort}`, sessionManager }),
  );
  return {
    pid: child.pid!,
    ...ports,
    get output() {
      return output;
    },
    client,
    async stop() {
      sessionManager.abort();
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
    async kill() {
      sessionManager.abort();
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}
