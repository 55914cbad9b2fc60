// `runlog serve` configuration, compiled once at start-up: defaults → flags and
// environment → validation → normalized values with units in their names.
// Flags win over environment variables (RUNLOG_<FLAG_IN_CAPITALS>).
import { parseArgs } from "node:util";
import { defaultLimits, type Limits } from "../limits.js";
import type { ServerConfig, StoreConfig } from "../server.js";
import { checkSchemaName } from "../store/postgres/identifiers.js";
import { positionModes, type PositionMode } from "../store/postgres/options.js";

export type LogLevel = "trace" | "debug" | "info" | "warn" | "error" | "fatal" | "silent";
const logLevels: readonly LogLevel[] = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];

export interface ServeConfig {
  readonly server: ServerConfig;
  readonly logLevel: LogLevel;
}

/** A flag or variable with a bad value: the CLI prints the message and exits with status 2. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

export const defaultServerConfig: ServerConfig = {
  host: "127.0.0.1",
  grpcPort: 50051,
  httpPort: 8080,
  store: { kind: "memory" },
  snapshotEvery: undefined,
  lifecycleValidation: true,
  limits: defaultLimits,
  maxMessageBytes: 16 * 1024 * 1024,
  subscriptionBufferEvents: 10_000,
  maxSubscriptions: 10_000,
  shutdownGraceMs: 10_000,
};

/** Every flag: name, what it takes, and the help line. */
const flags = {
  "grpc-port": { type: "string", help: "native gRPC port (default 50051; 0: any free port)" },
  "http-port": { type: "string", help: "Connect / gRPC-Web / gRPC / JSON port with /healthz, /readyz (default 8080)" },
  host: { type: "string", help: "address to bind (default 127.0.0.1: loopback only)" },
  store: { type: "string", help: "memory (default) or postgres://user@host:port/database" },
  "postgres-schema": { type: "string", help: "with a postgres store: the schema holding runlog's tables (default runlog)" },
  "postgres-positions": { type: "string", help: "with a postgres store: xid-gated (default) or serialized (docs/adr/0005)" },
  "postgres-pool-size": { type: "string", help: "with a postgres store: connections in the pool (default 10)" },
  "snapshot-every": { type: "string", help: "snapshot each run every N events (default 100; 0: never)" },
  "no-lifecycle-validation": { type: "boolean", help: "accept histories the workflow state machine cannot have" },
  "max-batch-events": { type: "string", help: `events per AppendBatch (default ${defaultLimits.maxBatchEvents})` },
  "max-page-events": { type: "string", help: `events per Load / ReadLog page (default ${defaultLimits.maxPageEvents})` },
  "max-run-id-length": { type: "string", help: `characters in a run ID (default ${defaultLimits.maxRunIdLength})` },
  "max-name-length": { type: "string", help: `characters in a step/workflow/signal name (default ${defaultLimits.maxNameLength})` },
  "max-metadata-entries": { type: "string", help: `metadata entries per event (default ${defaultLimits.maxMetadataEntries})` },
  "max-metadata-size": { type: "string", help: `metadata characters per event (default ${defaultLimits.maxMetadataSize})` },
  "max-message-bytes": { type: "string", help: "largest gRPC / Connect message (default 16777216)" },
  "subscription-buffer-events": { type: "string", help: "live buffer per subscriber before it falls back to catch-up (default 10000)" },
  "max-subscriptions": { type: "string", help: "open Subscribe streams at once (default 10000)" },
  "shutdown-grace-ms": { type: "string", help: "how long shutdown lets running calls finish (default 10000)" },
  "log-level": { type: "string", help: `one of ${logLevels.join(", ")} (default info)` },
  help: { type: "boolean", help: "show this help" },
} as const;

type FlagName = keyof typeof flags;

export function usage(): string {
  const lines = Object.entries(flags).map(([name, flag]) => {
    const left = `  --${name}${flag.type === "string" ? " <value>" : ""}`;
    return `${left.padEnd(40)} ${flag.help}`;
  });
  return [
    "usage: runlog serve [flags]",
    "",
    "Flags (each also as an environment variable, e.g. --grpc-port as RUNLOG_GRPC_PORT):",
    ...lines,
    "",
  ].join("\n");
}

/** Compiles `runlog serve` arguments (after "serve") and the environment. Throws ConfigError. */
export function compileServeConfig(args: readonly string[], env: NodeJS.ProcessEnv): ServeConfig & { readonly help: boolean } {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (error) {
    throw new ConfigError(error instanceof Error ? error.message : String(error));
  }
  const value = (name: FlagName): string | undefined => {
    const flag = parsed.values[name];
    if (typeof flag === "string") return flag;
    const variable = env[`RUNLOG_${name.toUpperCase().replaceAll("-", "_")}`];
    return variable === undefined || variable === "" ? undefined : variable;
  };
  const describe = (name: FlagName) =>
    typeof parsed.values[name] === "string" ? `--${name}` : `RUNLOG_${name.toUpperCase().replaceAll("-", "_")}`;
  const integer = (name: FlagName, fallback: number, min: number, max: number): number => {
    const raw = value(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${describe(name)} must be a whole number, not ${JSON.stringify(raw)}`);
    const n = Number(raw.trim());
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new ConfigError(`${describe(name)} must be between ${min} and ${max}, not ${raw}`);
    }
    return n;
  };

  const host = value("host") ?? defaultServerConfig.host;
  if (host.trim() === "" || /\s/.test(host)) throw new ConfigError(`${describe("host")} must be a host name or address`);

  const limits: Limits = {
    maxBatchEvents: integer("max-batch-events", defaultLimits.maxBatchEvents, 1, 1_000_000),
    maxPageEvents: integer("max-page-events", defaultLimits.maxPageEvents, 1, 1_000_000),
    maxRunIdLength: integer("max-run-id-length", defaultLimits.maxRunIdLength, 1, 65_536),
    maxNameLength: integer("max-name-length", defaultLimits.maxNameLength, 1, 65_536),
    maxMetadataEntries: integer("max-metadata-entries", defaultLimits.maxMetadataEntries, 0, 65_536),
    maxMetadataSize: integer("max-metadata-size", defaultLimits.maxMetadataSize, 0, 64 * 1024 * 1024),
  };

  const lifecycleFromEnv = env.RUNLOG_LIFECYCLE_VALIDATION;
  if (lifecycleFromEnv !== undefined && !["", "true", "false", "1", "0"].includes(lifecycleFromEnv)) {
    throw new ConfigError(`RUNLOG_LIFECYCLE_VALIDATION must be true or false, not ${JSON.stringify(lifecycleFromEnv)}`);
  }
  const lifecycleValidation =
    parsed.values["no-lifecycle-validation"] === true
      ? false
      : !(lifecycleFromEnv === "false" || lifecycleFromEnv === "0");

  const logLevel = (value("log-level") ?? "info") as LogLevel;
  if (!logLevels.includes(logLevel)) {
    throw new ConfigError(`${describe("log-level")} must be one of ${logLevels.join(", ")}, not ${JSON.stringify(logLevel)}`);
  }

  const snapshotRaw = value("snapshot-every");
  const server: ServerConfig = {
    host,
    grpcPort: integer("grpc-port", defaultServerConfig.grpcPort, 0, 65_535),
    httpPort: integer("http-port", defaultServerConfig.httpPort, 0, 65_535),
    store: storeConfig(value("store"), describe("store"), {
      schema: value("postgres-schema"),
      positions: value("postgres-positions"),
      poolSize: value("postgres-pool-size") === undefined ? undefined : integer("postgres-pool-size", 10, 1, 1_000),
      describe,
    }),
    snapshotEvery: snapshotRaw === undefined ? undefined : integer("snapshot-every", 0, 0, 1_000_000_000),
    lifecycleValidation,
    limits,
    maxMessageBytes: integer("max-message-bytes", defaultServerConfig.maxMessageBytes, 1024, 1024 * 1024 * 1024),
    subscriptionBufferEvents: integer("subscription-buffer-events", defaultServerConfig.subscriptionBufferEvents, 1, 10_000_000),
    maxSubscriptions: integer("max-subscriptions", defaultServerConfig.maxSubscriptions, 1, 1_000_000),
    shutdownGraceMs: integer("shutdown-grace-ms", defaultServerConfig.shutdownGraceMs, 0, 600_000),
  };
  if (server.grpcPort !== 0 && server.grpcPort === server.httpPort) {
    throw new ConfigError(`--grpc-port and --http-port must differ (both are ${server.grpcPort})`);
  }
  return { server, logLevel, help: parsed.values.help === true };
}

function parse(args: readonly string[]) {
  const options = Object.fromEntries(Object.entries(flags).map(([name, flag]) => [name, { type: flag.type }])) as {
    [K in FlagName]: { type: (typeof flags)[K]["type"] };
  };
  return parseArgs({ args: [...args], options, strict: true, allowPositionals: false });
}

interface PostgresFlags {
  readonly schema: string | undefined;
  readonly positions: string | undefined;
  readonly poolSize: number | undefined;
  readonly describe: (name: FlagName) => string;
}

function storeConfig(raw: string | undefined, name: string, pg: PostgresFlags): StoreConfig {
  const pgFlags = (["postgres-schema", "postgres-positions", "postgres-pool-size"] as const).filter(
    (flag) => (flag === "postgres-schema" ? pg.schema : flag === "postgres-positions" ? pg.positions : pg.poolSize) !== undefined,
  );
  if (raw === undefined || raw === "memory") {
    if (pgFlags.length > 0) throw new ConfigError(`${pg.describe(pgFlags[0]!)} needs --store postgres://…`);
    return { kind: "memory" };
  }
  if (!/^postgres(ql)?:\/\/\S+$/.test(raw)) {
    throw new ConfigError(`${name} must be "memory" or a postgres:// URL, not ${JSON.stringify(raw)}`);
  }
  if (pg.schema !== undefined) {
    try {
      checkSchemaName(pg.schema, pg.describe("postgres-schema"));
    } catch (error) {
      throw new ConfigError((error as Error).message);
    }
  }
  if (pg.positions !== undefined && !(positionModes as readonly string[]).includes(pg.positions)) {
    throw new ConfigError(`${pg.describe("postgres-positions")} must be one of ${positionModes.join(", ")}, not ${JSON.stringify(pg.positions)}`);
  }
  return {
    kind: "postgres",
    url: raw,
    ...(pg.schema !== undefined && { schema: pg.schema }),
    ...(pg.positions !== undefined && { positions: pg.positions as PositionMode }),
    ...(pg.poolSize !== undefined && { poolSize: pg.poolSize }),
  };
}

/** Whether a host only accepts connections from this machine. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\./.test(host);
}
