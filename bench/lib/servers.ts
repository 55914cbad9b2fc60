// The server processes the over-the-wire cases talk to.
import { join } from "node:path";
import type { RunContext } from "./bench-case.js";
import { benchDir, startServerProcess, type ServerProcess } from "./process.js";
import { missing } from "./runlog-inproc.js";

export interface Ports {
  readonly grpcPort: number;
  readonly httpPort: number;
}

/** runlog (`runlog serve` flags in `args`), in its own process. */
export function startRunlog(ctx: RunContext, args: readonly string[] = []): Promise<ServerProcess<Ports>> {
  return startServerProcess<Ports>("runlog", join(benchDir, "servers", "runlog-server.ts"), args, {
    cpuProfile: ctx.profileServers,
    nodeArgs: ["--max-old-space-size=8192"],
  });
}

/** The bare echo ceiling (grpc-js and connect-node), in its own process. */
export function startEcho(ctx: RunContext, responseBytes: number): Promise<ServerProcess<Ports>> {
  return startServerProcess<Ports>("echo", join(benchDir, "servers", "echo-server.ts"), ["--response-bytes", String(responseBytes)], {
    cpuProfile: ctx.profileServers,
  });
}

export const runlogServerAvailable = async (): Promise<string | undefined> =>
  missing("src/server.ts", "src/cli/config.ts");
