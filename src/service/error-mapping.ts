// The one place where domain errors (src/errors.ts) become status codes with a
// typed detail (ARCHITECTURE §8). Both transports only ever see ConnectErrors:
// connect-node sends them as they are, the grpc-js adapter turns them into a
// gRPC status with the same details in grpc-status-details-bin.
import { Code, ConnectError } from "@connectrpc/connect";
import {
  ConcurrencyConflictSchema,
  EventIdConflictSchema,
  FieldViolationSchema,
  LifecycleViolationSchema,
  LimitExceededSchema,
  RunNotFoundSchema,
} from "../../gen/runlog/v1/errors_pb.js";
import {
  ConcurrencyConflictError,
  EventIdConflictError,
  InvalidArgumentError,
  LifecycleViolationError,
  LimitExceededError,
  RunlogError,
  RunNotFoundError,
  UnavailableError,
} from "../errors.js";
import type { Logger } from "../logger.js";

/** What clients see for a bug; the cause goes to the log only. */
export const internalErrorMessage = "internal error";

/**
 * Maps anything a handler throws to a ConnectError. Domain errors get their code
 * and detail; ConnectErrors pass through; anything else is INTERNAL with a
 * generic message (the cause is logged, never sent).
 */
export function toConnectError(error: unknown, logger: Logger, context?: { readonly method?: string }): ConnectError {
  if (error instanceof ConnectError) return error;
  if (error instanceof RunlogError) {
    // Like the domain error itself, its status is an answer, not a bug: no stack trace.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    let mapped: ConnectError | undefined;
    try {
      mapped = mapDomainError(error);
    } finally {
      Error.stackTraceLimit = limit;
    }
    if (mapped !== undefined) return mapped;
  }
  logger.error({ err: error, method: context?.method }, "internal error");
  return new ConnectError(internalErrorMessage, Code.Internal);
}

/** The code and detail for one domain error; undefined for a RunlogError this module does not know. */
export function mapDomainError(error: RunlogError): ConnectError | undefined {
  if (error instanceof InvalidArgumentError) {
    return new ConnectError(error.message, Code.InvalidArgument, undefined, [
      { desc: FieldViolationSchema, value: { field: error.field, description: error.description } },
    ]);
  }
  if (error instanceof ConcurrencyConflictError) {
    return new ConnectError(error.message, Code.Aborted, undefined, [
      {
        desc: ConcurrencyConflictSchema,
        value: { runId: error.runId, expected: error.expected, actual: error.actual },
      },
    ]);
  }
  if (error instanceof EventIdConflictError) {
    return new ConnectError(error.message, Code.AlreadyExists, undefined, [
      {
        desc: EventIdConflictSchema,
        value: { eventId: error.eventId, runId: error.runId, sequence: error.sequence },
      },
    ]);
  }
  if (error instanceof LifecycleViolationError) {
    return new ConnectError(error.message, Code.FailedPrecondition, undefined, [
      {
        desc: LifecycleViolationSchema,
        value: { rule: error.rule, runId: error.runId, sequence: error.sequence, description: error.description },
      },
    ]);
  }
  if (error instanceof LimitExceededError) {
    return new ConnectError(error.message, Code.ResourceExhausted, undefined, [
      { desc: LimitExceededSchema, value: { limit: error.limit, value: error.value, max: error.max } },
    ]);
  }
  if (error instanceof RunNotFoundError) {
    return new ConnectError(error.message, Code.NotFound, undefined, [
      { desc: RunNotFoundSchema, value: { runId: error.runId, lastSequence: error.lastSequence } },
    ]);
  }
  if (error instanceof UnavailableError) {
    return new ConnectError(error.message, Code.Unavailable);
  }
  return undefined;
}
