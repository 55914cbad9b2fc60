// Starting a runlog server for a test: 127.0.0.1, both ports 0 (any free port).
import { defaultServerConfig } from "../../src/cli/config.js";
import { silentLogger, type Logger } from "../../src/logger.js";
import { startServer, type RunningServer, type ServerConfig, type ServerDeps } from "../../src/server.js";

export type TestServerConfig = Partial<Omit<ServerConfig, "limits">> & { limits?: Partial<ServerConfig["limits"]> };

export function testServerConfig(overrides: TestServerConfig = {}): ServerConfig {
  return {
    ...defaultServerConfig,
    grpcPort: 0,
    httpPort: 0,
    shutdownGraceMs: 2_000,
    ...overrides,
    host: overrides.host ?? "127.0.0.1",
    limits: { ...defaultServerConfig.limits, ...overrides.limits },
  };
}

export function startTestServer(overrides: TestServerConfig = {}, deps: ServerDeps = {}): Promise<RunningServer> {
  return startServer(testServerConfig(overrides), { logger: process.env.RUNLOG_TEST_LOGS ? consoleLogger : silentLogger, ...deps });
}

/** Set RUNLOG_TEST_LOGS=1 to see the server's logs while debugging a test. */
const consoleLogger: Logger = {
  debug: (fields, message) => console.debug(message, fields),
  info: (fields, message) => console.info(message, fields),
  warn: (fields, message) => console.warn(message, fields),
  error: (fields, message) => console.error(message, fields),
};

/** A Logger that keeps what it is told, for assertions. */
export function recordingLogger(): Logger & { readonly entries: { level: string; fields: object; message?: string }[] } {
  const entries: { level: string; fields: object; message?: string }[] = [];
  const at =
    (level: string) =>
    (fields: object, message?: string): void => {
      entries.push({ level, fields, ...(message !== undefined && { message }) });
    };
  return { entries, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}
