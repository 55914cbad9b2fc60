// Driver errors, classified once. A lost or refused connection becomes the domain's
// UnavailableError (retryable) with the driver error as its cause; nothing above
// store/postgres ever sees a raw driver error for a condition it must handle.
import { UnavailableError } from "../../errors.js";

/** Node socket errors that mean "the database cannot be reached now". */
const socketCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
]);

/** SQLSTATEs that mean the server is going away, restarting or out of connection slots. */
const unavailableStates = new Set([
  "57P01", // admin_shutdown (also pg_terminate_backend)
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now (starting up, recovering)
  "57P05", // idle_session_timeout
  "53300", // too_many_connections
  "25P03", // idle_in_transaction_session_timeout
]);

/** Messages pg and pg-pool use for a dead or unusable connection (they carry no code). */
const connectionMessages = [
  "Connection terminated",
  "Client has encountered a connection error and is not queryable",
  "Client was closed and is not queryable",
  "timeout exceeded when trying to connect",
  "Connection ended",
  "Cannot use a pool after calling end on the pool",
];

/** The SQLSTATE (or Node error code) of a driver error, if any. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

/** The constraint a unique/foreign-key violation names, if any. */
export function errorConstraint(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const constraint = (error as { constraint?: unknown }).constraint;
  return typeof constraint === "string" ? constraint : undefined;
}

/** Whether the error means the database is unreachable or the connection was lost. */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = errorCode(error);
  if (code !== undefined) {
    if (socketCodes.has(code) || unavailableStates.has(code) || code.startsWith("08")) return true;
  }
  if (connectionMessages.some((m) => error.message.includes(m))) return true;
  // AggregateError from net.connect trying several addresses (e.g. ::1 and 127.0.0.1).
  if (error instanceof AggregateError) return error.errors.some(isConnectionError);
  return false;
}

/** Maps a driver error to the domain: connection problems → UnavailableError; everything else unchanged. */
export function toStoreError(error: unknown, operation: string): unknown {
  if (error instanceof UnavailableError) return error;
  if (isConnectionError(error)) {
    const detail = error instanceof Error ? error.message : String(error);
    return new UnavailableError(`postgres: ${operation} failed, database unavailable: ${detail}`, { cause: error });
  }
  return error;
}
