// runlog as the benchmark's server process: `runlog serve` with both ports on
// 0 and the logger silent, so that client and server never share an event loop
// (on 2 cores, one core each) — the same layout as the echo ceiling
// (bench/servers/echo-server.ts).
//
//   node --import tsx bench/servers/runlog-server.ts [runlog serve flags…]
//
// Prints `@@ready {"grpcPort":…,"httpPort":…}` once both ports listen.
//   --bench-server-module <path>   start a variant's server module instead of src/server.ts
//                                  (bench/experiments: a proposed change, measured before it is made)
import { compileServeConfig } from "../../src/cli/config.js";
import type { startServer as StartServer } from "../../src/server.js";
import { announceReady } from "../lib/process.js";

let args = process.argv.slice(2);
let serverModule = "../../src/server.js";
if (args[0] === "--bench-server-module") {
  serverModule = args[1]!;
  args = args.slice(2);
}
const { startServer } = (await import(serverModule)) as { startServer: typeof StartServer };

// The environment is ignored on purpose: RUNLOG_* variables of the shell must not change the benchmark.
const { server: config } = compileServeConfig(["--grpc-port", "0", "--http-port", "0", ...args], {});
const server = await startServer(config);
announceReady({ grpcPort: server.grpcPort, httpPort: server.httpPort });

const stop = (): void => {
  void server.stop().finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 5000).unref();
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
