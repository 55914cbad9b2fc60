// Domain errors. Each carries the fields a client needs; exactly one module
// (src/service/error-mapping.ts) turns them into gRPC / Connect status codes and details.
// Nothing here knows about transports or drivers.

/**
 * Base class: every error runlog raises on purpose is a RunlogError. They are
 * answers to clients (a conflict, a bad field), not bugs, and are raised on hot
 * paths (a contended run answers most appends with ABORTED), so they capture no
 * stack trace: capturing one was 4 % of the server's CPU under contention
 * (bench/OPTIMISATIONS.md). A cause keeps its own stack.
 */
export abstract class RunlogError extends Error {
  abstract readonly kind: string;
  constructor(message: string, options?: { cause?: unknown }) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message, options);
    Error.stackTraceLimit = limit;
    this.name = new.target.name;
  }
}

/** A request or event field is malformed (INVALID_ARGUMENT). */
export class InvalidArgumentError extends RunlogError {
  readonly kind = "invalid-argument";
  constructor(
    readonly field: string,
    readonly description: string,
  ) {
    super(`${field}: ${description}`);
  }
}

/** The run's last sequence differs from what the writer expected (ABORTED). */
export class ConcurrencyConflictError extends RunlogError {
  readonly kind = "concurrency-conflict";
  constructor(
    readonly runId: string,
    readonly expected: bigint,
    readonly actual: bigint,
  ) {
    super(`run ${JSON.stringify(runId)}: expected last sequence ${expected}, actual ${actual}`);
  }
}

/** An event ID is already used by a different event (ALREADY_EXISTS). */
export class EventIdConflictError extends RunlogError {
  readonly kind = "event-id-conflict";
  constructor(
    readonly eventId: string,
    readonly runId: string,
    readonly sequence: bigint,
  ) {
    super(`event id ${eventId} is already used by run ${JSON.stringify(runId)} sequence ${sequence}`);
  }
}

/** The history would break a lifecycle rule (FAILED_PRECONDITION). */
export class LifecycleViolationError extends RunlogError {
  readonly kind = "lifecycle-violation";
  constructor(
    readonly rule: string,
    readonly runId: string,
    readonly sequence: bigint,
    readonly description: string,
  ) {
    super(`${rule}: ${description} (run ${JSON.stringify(runId)}, sequence ${sequence})`);
  }
}

/** A configured limit was exceeded (RESOURCE_EXHAUSTED). */
export class LimitExceededError extends RunlogError {
  readonly kind = "limit-exceeded";
  constructor(
    readonly limit: string,
    readonly value: bigint,
    readonly max: bigint,
  ) {
    super(`${limit}: ${value} exceeds the maximum of ${max}`);
  }
}

/** The run, or the run as of a sequence, does not exist (NOT_FOUND). */
export class RunNotFoundError extends RunlogError {
  readonly kind = "run-not-found";
  constructor(
    readonly runId: string,
    readonly lastSequence: bigint,
    message = `run ${JSON.stringify(runId)} not found`,
  ) {
    super(message);
  }
}

/** The store cannot serve now: shutting down, database unreachable (UNAVAILABLE, retryable). */
export class UnavailableError extends RunlogError {
  readonly kind = "unavailable";
}
