// The server processes the over-the-wire cases talk to.
import { join } from "node:path";
import type { RunContext } from "./bench-case.js";
import { serverNodeFlags } from "../../src/cli/node-flags.js";
import { benchDir, startServerProcess, type ServerProcess } from "./process.js";
import { missing } from "./runlog-inproc.js";

export interface Ports {
  readonly grpcPort: number;
  readonly httpPort: number;
}

/**
 * runlog (`runlog serve` flags in `args`), in its own process; `script` replaces
 * bench/servers/runlog-server.ts (a compiled .js one runs without tsx);
 * `nodeArgs` are node flags added after the harness's own.
 */
export function startRunlog(
  ctx: RunContext,
  args: readonly string[] = [],
  script?: string,
  nodeArgs: readonly string[] = [],
): Promise<ServerProcess<Ports>> {
  const path = script ?? join(benchDir, "servers", "runlog-server.ts");
  return startServerProcess<Ports>("runlog", path, args, {
    cpuProfile: ctx.profileServers,
    nodeArgs: ["--max-old-space-size=8192", ...serverNodeFlags, ...ctx.serverNodeArgs, ...nodeArgs],
    outputDir: ctx.serverOutputDir,
    tsx: !path.endsWith(".js"),
  });
}

/** The bare echo ceiling (grpc-js and connect-node), in its own process, under the node flags runlog's server runs with. */
export function startEcho(ctx: RunContext, responseBytes: number): Promise<ServerProcess<Ports>> {
  return startServerProcess<Ports>("echo", join(benchDir, "servers", "echo-server.ts"), ["--response-bytes", String(responseBytes)], {
    cpuProfile: ctx.profileServers,
    nodeArgs: [...serverNodeFlags, ...ctx.serverNodeArgs],
    outputDir: ctx.serverOutputDir,
  });
}

export const runlogServerAvailable = async (): Promise<string | undefined> =>
  missing("src/server.ts", "src/cli/config.ts");
