// `runlog serve` configuration: defaults, flags over environment, and a clear
// ConfigError for every bad value.
import { describe, expect, it } from "vitest";
import { compileServeConfig, ConfigError, defaultServerConfig, isLoopback } from "../../src/cli/config.js";

describe("compileServeConfig", () => {
  it("defaults: loopback, 50051 and 8080, memory store, validation on", () => {
    const { server, logLevel, help } = compileServeConfig([], {});
    expect(server).toEqual(defaultServerConfig);
    expect(server.host).toBe("127.0.0.1");
    expect(logLevel).toBe("info");
    expect(help).toBe(false);
  });

  it("flags win over environment variables", () => {
    const { server } = compileServeConfig(
      ["--grpc-port", "6000", "--store", "postgres://u@db:5432/runlog", "--no-lifecycle-validation", "--max-batch-events", "50"],
      { RUNLOG_GRPC_PORT: "7000", RUNLOG_HTTP_PORT: "7001", RUNLOG_SNAPSHOT_EVERY: "25", RUNLOG_SHUTDOWN_GRACE_MS: "500" },
    );
    expect(server).toMatchObject({
      grpcPort: 6000,
      httpPort: 7001,
      store: { kind: "postgres", url: "postgres://u@db:5432/runlog" },
      lifecycleValidation: false,
      snapshotEvery: 25,
      shutdownGraceMs: 500,
      limits: { maxBatchEvents: 50 },
    });
    expect(compileServeConfig([], { RUNLOG_LIFECYCLE_VALIDATION: "false" }).server.lifecycleValidation).toBe(false);
  });

  it("takes the PostgreSQL store's schema, position mode and pool size", () => {
    const { server } = compileServeConfig(
      ["--store", "postgres://u@db/x", "--postgres-schema", "tenant_a", "--postgres-positions", "serialized"],
      { RUNLOG_POSTGRES_POOL_SIZE: "4" },
    );
    expect(server.store).toEqual({ kind: "postgres", url: "postgres://u@db/x", schema: "tenant_a", positions: "serialized", poolSize: 4 });
  });

  it.each([
    [["--grpc-port", "http"], "--grpc-port must be a whole number"],
    [["--http-port", "70000"], "--http-port must be between 0 and 65535"],
    [["--store", "mysql://x"], '--store must be "memory" or a postgres:// URL'],
    [["--postgres-schema", "runlog"], "--postgres-schema needs --store postgres://"],
    [["--store", "postgres://u@db/x", "--postgres-schema", "bad-name"], "--postgres-schema"],
    [["--store", "postgres://u@db/x", "--postgres-positions", "fast"], "--postgres-positions must be one of serialized, xid-gated"],
    [["--store", "postgres://u@db/x", "--postgres-pool-size", "0"], "--postgres-pool-size must be between 1 and 1000"],
    [["--grpc-port", "9000", "--http-port", "9000"], "must differ"],
    [["--shutdown-grace-ms", "1.5"], "--shutdown-grace-ms must be a whole number"],
    [["--max-message-bytes", "10"], "--max-message-bytes must be between 1024"],
    [["--frobnicate"], "Unknown option '--frobnicate'"],
    [["--log-level", "loud"], "--log-level must be one of"],
    [["--host", ""], "--host must be a host name or address"],
    [["stray"], "stray"],
  ])("%j: %s", (args, message) => {
    expect(() => compileServeConfig(args, {})).toThrow(ConfigError);
    expect(() => compileServeConfig(args, {})).toThrow(message);
  });

  it("names the environment variable when it is the bad one", () => {
    expect(() => compileServeConfig([], { RUNLOG_MAX_PAGE_EVENTS: "0" })).toThrow("RUNLOG_MAX_PAGE_EVENTS must be between 1");
    expect(() => compileServeConfig([], { RUNLOG_LIFECYCLE_VALIDATION: "maybe" })).toThrow("RUNLOG_LIFECYCLE_VALIDATION");
  });

  it("knows loopback addresses", () => {
    expect(["127.0.0.1", "localhost", "::1", "127.1.2.3"].every(isLoopback)).toBe(true);
    expect(["0.0.0.0", "::", "10.0.0.1"].some(isLoopback)).toBe(false);
  });
});
