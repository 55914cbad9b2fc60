// A running runlog server: the store, the reconstructor, the service, and both
// ports (gRPC on grpcPort, Connect/gRPC-Web/gRPC/JSON on httpPort). Tests start
// it with port 0; `runlog serve` starts it from a compiled config.
//
// stop(): health NOT_SERVING and /readyz 503; new calls UNAVAILABLE; no new
// connections or streams; Subscribe streams end with UNAVAILABLE; running unary
// calls finish (bounded by shutdownGraceMs); then every connection is closed
// and the store too.
import { setMaxListeners } from "node:events";
import { file_runlog_v1_errors } from "../gen/runlog/v1/errors_pb.js";
import { EventStore as EventStoreService } from "../gen/runlog/v1/event_store_pb.js";
import type { Limits } from "./limits.js";
import { silentLogger, type Logger } from "./logger.js";
import { createReconstructor } from "./reconstruct/create-reconstructor.js";
import { createEventStoreService } from "./service/event-store-service.js";
import type { SubscriptionOptions } from "./service/subscription/subscribe.js";
import type { EventStore } from "./store/event-store.js";
import type { PositionMode } from "./store/postgres/options.js";
import { createMemoryEventStore } from "./store/memory/memory-event-store.js";
import { createCallGate } from "./transport/call-gate.js";
import { startGrpcServer } from "./transport/grpc-server.js";
import { shutdownError, startHttpServer } from "./transport/http-server.js";

export type StoreConfig =
  | { readonly kind: "memory" }
  | {
      readonly kind: "postgres";
      readonly url: string;
      /** Schema holding runlog's tables; default "runlog". */
      readonly schema?: string;
      /** Global position assignment (adr/0005); default "xid-gated". */
      readonly positions?: PositionMode;
      /** Pool connections; default 10. */
      readonly poolSize?: number;
    };

/** What a server needs, compiled and validated (src/cli/config.ts builds it from flags and env). */
export interface ServerConfig {
  readonly host: string;
  /** 0: any free port. */
  readonly grpcPort: number;
  /** 0: any free port. */
  readonly httpPort: number;
  readonly store: StoreConfig;
  /** Snapshot every N events per run; undefined: the reconstructor's default; 0: none. */
  readonly snapshotEvery: number | undefined;
  readonly lifecycleValidation: boolean;
  readonly limits: Limits;
  /** Largest gRPC / Connect message, each direction. */
  readonly maxMessageBytes: number;
  /** Live buffer per subscriber, in events; beyond it the subscriber falls back to catch-up. */
  readonly subscriptionBufferEvents: number;
  /** Open Subscribe streams at once. */
  readonly maxSubscriptions: number;
  /** How long stop() lets running calls finish before closing everything. */
  readonly shutdownGraceMs: number;
}

export interface ServerDeps {
  readonly logger?: Logger;
  /** Use this store instead of opening config.store; the server closes it on stop(). */
  readonly store?: EventStore;
  /** Tuning beyond the config (tests: short checkpoint intervals, small batches). */
  readonly subscription?: Partial<SubscriptionOptions>;
}

export interface RunningServer {
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly store: EventStore;
  /** Graceful shutdown within config.shutdownGraceMs (then forced); idempotent. */
  stop(): Promise<void>;
}

export async function startServer(config: ServerConfig, deps: ServerDeps = {}): Promise<RunningServer> {
  const logger = deps.logger ?? silentLogger;
  const store = deps.store ?? (await openStore(config, logger));
  const reconstructor = createReconstructor({
    store,
    ...(config.snapshotEvery !== undefined && { snapshotEvery: config.snapshotEvery }),
    onSnapshotError: (error, context) => logger.warn({ err: error, ...context }, "snapshot problem"),
  });
  const gate = createCallGate();
  const implementation = gate.wrap(
    EventStoreService,
    createEventStoreService({
      store,
      reconstructor,
      limits: config.limits,
      lifecycleValidation: config.lifecycleValidation,
      logger,
      maxSubscriptions: config.maxSubscriptions,
      subscription: { liveBufferEvents: config.subscriptionBufferEvents, ...deps.subscription },
    }),
  );
  const shutdown = new AbortController();
  // Every running call listens to it (connect-node links it into each call's signal).
  setMaxListeners(Number.POSITIVE_INFINITY, shutdown.signal);

  let grpcServer: Awaited<ReturnType<typeof startGrpcServer>> | undefined;
  let httpServer: Awaited<ReturnType<typeof startHttpServer>> | undefined;
  try {
    grpcServer = await startGrpcServer({
      host: config.host,
      port: config.grpcPort,
      service: EventStoreService,
      implementation,
      extraFiles: [file_runlog_v1_errors],
      maxMessageBytes: config.maxMessageBytes,
      shutdownSignal: shutdown.signal,
      logger,
    });
    httpServer = await startHttpServer({
      host: config.host,
      port: config.httpPort,
      service: EventStoreService,
      implementation,
      maxMessageBytes: config.maxMessageBytes,
      shutdownSignal: shutdown.signal,
      ready: () => ping(store),
      logger,
    });
  } catch (error) {
    grpcServer?.forceStop();
    await store.close();
    throw error;
  }
  const grpc = grpcServer;
  const http = httpServer;
  logger.info(
    { host: config.host, grpcPort: grpc.port, httpPort: http.port, store: config.store.kind },
    "runlog serving",
  );

  let stopping: Promise<void> | undefined;
  const stop = async () => {
    const started = Date.now();
    logger.info({ graceMs: config.shutdownGraceMs }, "shutting down");
    grpc.setServing(false);
    http.setServing(false);
    gate.close();
    const grpcDrained = grpc.drain();
    http.stopAccepting();
    shutdown.abort(shutdownError());
    const graceLeft = () => Math.max(0, config.shutdownGraceMs - (Date.now() - started));
    const inTime = await within(gate.idle().then(() => true), graceLeft(), false);
    if (!inTime) logger.warn({ inFlight: gate.inFlight }, "grace time over: closing running calls");
    // Let finished calls flush their last bytes; watchers (health, reflection) do not hold us up.
    await within(grpcDrained, Math.min(graceLeft(), 200), undefined);
    grpc.forceStop();
    http.forceStop();
    await store.close();
    logger.info({ ms: Date.now() - started }, "stopped");
  };

  return {
    grpcPort: grpc.port,
    httpPort: http.port,
    store,
    stop: () => (stopping ??= stop()),
  };
}

async function openStore(config: ServerConfig, logger: Logger): Promise<EventStore> {
  switch (config.store.kind) {
    case "memory":
      return createMemoryEventStore({ limits: config.limits });
    case "postgres":
      return openPostgresStore(config.store, config.limits, logger);
  }
}

/** The PostgreSQL store, loaded only when asked for (it brings the pg driver). */
async function openPostgresStore(
  config: Extract<StoreConfig, { kind: "postgres" }>,
  limits: Limits,
  logger: Logger,
): Promise<EventStore> {
  // Loaded on demand: a memory-store server never loads the driver.
  const { createPostgresEventStore } = await import("./store/postgres/postgres-event-store.js");
  return createPostgresEventStore({
    connectionString: config.url,
    limits,
    logger,
    ...(config.schema !== undefined && { schema: config.schema }),
    ...(config.positions !== undefined && { positions: config.positions }),
    ...(config.poolSize !== undefined && { poolSize: config.poolSize }),
  });
}

/** Readiness: the store's own ping when it has one, else a cheap read. */
async function ping(store: EventStore): Promise<void> {
  const withPing = store as EventStore & { ping?: () => Promise<void> };
  if (typeof withPing.ping === "function") await withPing.ping();
  else await store.headPosition();
}

/** The promise's value, or `fallback` after `ms`. */
function within<T, F>(promise: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(fallback), ms);
    promise.then((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}
