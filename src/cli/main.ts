// The runlog command line. `runlog serve` starts the server (the `npm start`
// target); SIGINT / SIGTERM stop it gracefully (src/server.ts) and exit 0; a
// second signal exits at once. Bad flags exit 2. Logs are JSON lines (pino).
import { pino } from "pino";
import { startServer } from "../server.js";
import { compileServeConfig, ConfigError, isLoopback, usage } from "./config.js";

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...args] = argv;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    process.stdout.write(usage());
    return command === undefined ? 2 : 0;
  }
  if (command !== "serve") {
    process.stderr.write(`runlog: unknown command ${JSON.stringify(command)}\n\n${usage()}`);
    return 2;
  }
  let config: ReturnType<typeof compileServeConfig>;
  try {
    config = compileServeConfig(args, process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`runlog serve: ${error.message}\n(runlog serve --help lists the flags)\n`);
      return 2;
    }
    throw error;
  }
  if (config.help) {
    process.stdout.write(usage());
    return 0;
  }

  const logger = pino({ level: config.logLevel, base: { service: "runlog", pid: process.pid } });
  if (!isLoopback(config.server.host)) {
    logger.warn({ host: config.server.host }, "listening beyond loopback without authentication");
  }
  // Signals are handled from before the server starts: one that came with no
  // listener yet would kill the process instead of stopping it.
  let exit!: (code: number) => void;
  const exited = new Promise<number>((resolve) => (exit = resolve));
  const starting = startServer(config.server, { logger }).then(
    (server) => server,
    (error: unknown) => {
      logger.fatal({ err: error }, "cannot start");
      exit(1);
      return undefined;
    },
  );
  const stop = (server: Awaited<ReturnType<typeof startServer>>) => {
    // stop() forces running calls out after the grace time; this guards against a store
    // that does not close.
    const watchdogMs = config.server.shutdownGraceMs + 5_000;
    setTimeout(() => {
      logger.error({ watchdogMs }, "shutdown did not finish: exiting");
      exit(1);
    }, watchdogMs).unref();
    server.stop().then(
      () => exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        exit(1);
      },
    );
  };
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, "second signal: exiting now");
      exit(1);
      return;
    }
    stopping = true;
    logger.info({ signal }, "signal received");
    void starting.then((server) => server && stop(server)); // a server still starting stops once started
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return exited;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`runlog: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
