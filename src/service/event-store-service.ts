// runlog.v1.EventStore, written once in Connect's handler style and mounted by
// both servers (src/transport/). Thin: check the request, call the store or the
// reconstructor, map the result. Errors leave as ConnectErrors (error-mapping.ts).
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import {
  EventStore as EventStoreService,
  LoadResponseSchema,
  ReadLogResponseSchema,
  type SubscribeRequest,
} from "../../gen/runlog/v1/event_store_pb.js";
import { InvalidArgumentError, LimitExceededError } from "../errors.js";
import type { Limits } from "../limits.js";
import type { Logger } from "../logger.js";
import type { Reconstructor } from "../reconstruct/reconstructor.js";
import type { EventStore } from "../store/event-store.js";
import { onStreamEnd } from "../stream-end.js";
import { createAppender } from "./appender.js";
import { toConnectError } from "./error-mapping.js";
import { cancellationReason, throwIfCancelled } from "./cancellation.js";
import { encodedPage, fittingCount, pageResponse, storedPage } from "./page-bytes.js";
import { receivedElements } from "./received-bytes.js";
import {
  checkNames,
  checkNotNegative,
  checkRunStatuses,
  pageLimit,
  toStoreFilter,
  validateRunId,
} from "./request-validation.js";
import type { Encoding } from "./subscription/batches.js";
import { createSharedEncoder } from "./subscription/shared-encoding.js";
import {
  defaultSubscriptionOptions,
  runSubscription,
  type SubscribeResponseInit,
  type SubscriptionOptions,
  type SubscriptionSpec,
} from "./subscription/subscribe.js";

export type EventStoreServiceImpl = ServiceImpl<typeof EventStoreService>;

export interface EventStoreServiceDeps {
  readonly store: EventStore;
  readonly reconstructor: Reconstructor;
  readonly limits: Limits;
  /** Reject histories the workflow state machine cannot have (ARCHITECTURE §4). */
  readonly lifecycleValidation: boolean;
  readonly logger: Logger;
  readonly subscription?: Partial<SubscriptionOptions>;
  /** Open Subscribe streams at once; beyond: RESOURCE_EXHAUSTED (max_subscriptions). */
  readonly maxSubscriptions?: number;
  /** Append attempts when the run moved between lifecycle validation and write. */
  readonly appendAttempts?: number;
}

export const defaultMaxSubscriptions = 10_000;

export function createEventStoreService(deps: EventStoreServiceDeps): EventStoreServiceImpl {
  const { store, reconstructor, limits, logger } = deps;
  const subscription: SubscriptionOptions = {
    ...defaultSubscriptionOptions,
    pageEvents: Math.min(defaultSubscriptionOptions.pageEvents, limits.maxPageEvents),
    ...deps.subscription,
  };
  const maxSubscriptions = deps.maxSubscriptions ?? defaultMaxSubscriptions;
  const append = createAppender({
    store,
    reconstructor,
    limits,
    lifecycleValidation: deps.lifecycleValidation,
    logger,
    maxAttempts: deps.appendAttempts ?? 5,
  });
  let subscriptions = 0;
  const encodeLive = createSharedEncoder();
  const mapError = errorMapper(logger);

  const impl: EventStoreServiceImpl = {
    async append(request, context) {
      const event = request.event;
      if (event === undefined) throw new InvalidArgumentError("event", "is required");
      const expected = new Map<string, bigint>();
      if (request.expectedLastSequence !== undefined) {
        checkNotNegative(request.expectedLastSequence, "expected_last_sequence");
        expected.set(event.runId, request.expectedLastSequence);
      }
      const received = receivedElements(request, 1, 1); // AppendRequest.event
      const result = await append([event], expected, () => throwIfCancelled(context), context.timeoutMs, received);
      return { event: result.events[0], duplicate: result.duplicate };
    },

    async appendBatch(request, context) {
      const expected = new Map<string, bigint>();
      request.expected.forEach((e, i) => {
        validateRunId(e.runId, `expected[${i}].run_id`, limits);
        checkNotNegative(e.lastSequence, `expected[${i}].last_sequence`);
        if (expected.has(e.runId)) throw new InvalidArgumentError(`expected[${i}].run_id`, "is given twice");
        expected.set(e.runId, e.lastSequence);
      });
      const received = receivedElements(request, 1, request.events.length); // AppendBatchRequest.events
      const result = await append(request.events, expected, () => throwIfCancelled(context), context.timeoutMs, received);
      return { events: [...result.events], duplicate: result.duplicate };
    },

    async load(request, context) {
      validateRunId(request.runId, "run_id", limits);
      checkNotNegative(request.afterSequence, "after_sequence");
      const limit = pageLimit(request.limit, "limit", limits);
      const filter = toStoreFilter(request.filter, "filter", limits);
      // run_id_prefix and workflow_names do not apply to one run's events.
      const runFilter = filter && {
        ...(filter.types && { types: filter.types }),
        ...(filter.stepNames && { stepNames: filter.stepNames }),
      };
      const options = { afterSequence: request.afterSequence, limit, ...(runFilter && { filter: runFilter }) };
      const binary = encodingOf(context) === "binary";
      if (binary && store.loadEncoded !== undefined) {
        // The events as the store keeps them, never decoded here.
        const stored = await store.loadEncoded(request.runId, options);
        const { bytes, coordinates } = stored.events;
        if (bytes.length === 0) return { nextAfterSequence: stored.nextAfterSequence, hasMore: stored.hasMore };
        const page = storedPage(bytes);
        return pageResponse(LoadResponseSchema, page, {
          nextAfterSequence: page.cut ? coordinates[page.count - 1]! : stored.nextAfterSequence,
          hasMore: page.cut || stored.hasMore,
        });
      }
      const result = await store.load(request.runId, options);
      const events = result.events;
      if (binary && events.length > 0) {
        const page = encodedPage(events);
        return pageResponse(LoadResponseSchema, page, {
          nextAfterSequence: page.cut ? page.last.sequence : result.nextAfterSequence,
          hasMore: page.cut || result.hasMore,
        });
      }
      const fit = fittingCount(events);
      if (fit < events.length) {
        return { events: events.slice(0, fit), nextAfterSequence: events[fit - 1]!.sequence, hasMore: true };
      }
      return { events: [...events], nextAfterSequence: result.nextAfterSequence, hasMore: result.hasMore };
    },

    async getLastSequence(request) {
      validateRunId(request.runId, "run_id", limits);
      return { lastSequence: await store.getLastSequence(request.runId) };
    },

    async readLog(request, context) {
      const limit = pageLimit(request.limit, "limit", limits);
      const filter = toStoreFilter(request.filter, "filter", limits);
      const options = {
        afterPosition: request.afterPosition,
        ...(request.toPosition !== 0n && { toPosition: request.toPosition }),
        limit,
        ...(filter && { filter }),
      };
      const binary = encodingOf(context) === "binary";
      if (binary && store.readLogEncoded !== undefined) {
        const stored = await store.readLogEncoded(options);
        const { bytes, coordinates } = stored.events;
        const { nextAfterPosition, hasMore, headPosition } = stored;
        if (bytes.length === 0) return { nextAfterPosition, hasMore, headPosition };
        const page = storedPage(bytes);
        return pageResponse(ReadLogResponseSchema, page, {
          nextAfterPosition: page.cut ? coordinates[page.count - 1]! : nextAfterPosition,
          hasMore: page.cut || hasMore,
          headPosition,
        });
      }
      const result = await store.readLog(options);
      const events = result.events;
      if (binary && events.length > 0) {
        const page = encodedPage(events);
        return pageResponse(ReadLogResponseSchema, page, {
          nextAfterPosition: page.cut ? page.last.position : result.nextAfterPosition,
          hasMore: page.cut || result.hasMore,
          headPosition: result.headPosition,
        });
      }
      const fit = fittingCount(events);
      if (fit < events.length) {
        return {
          events: events.slice(0, fit),
          nextAfterPosition: events[fit - 1]!.position,
          hasMore: true,
          headPosition: result.headPosition,
        };
      }
      return {
        events: [...events],
        nextAfterPosition: result.nextAfterPosition,
        hasMore: result.hasMore,
        headPosition: result.headPosition,
      };
    },

    subscribe(request, context) {
      return subscribe(request, context);
    },

    async getRunState(request) {
      validateRunId(request.runId, "run_id", limits);
      if (request.asOfSequence !== undefined) checkNotNegative(request.asOfSequence, "as_of_sequence");
      const result = await reconstructor.getRunState(request.runId, request.asOfSequence);
      return {
        state: result.state,
        snapshotSequence: result.snapshotSequence,
        replayedEvents: BigInt(result.replayedEvents),
      };
    },

    async listRuns(request) {
      if (request.runIdPrefix.length > limits.maxRunIdLength) {
        throw new InvalidArgumentError("run_id_prefix", `is longer than ${limits.maxRunIdLength} characters`);
      }
      checkNames(request.workflowNames, "workflow_names", limits);
      checkRunStatuses(request.statuses, "statuses");
      if (request.pageSize < 0) throw new InvalidArgumentError("page_size", "must not be negative");
      const result = await store.listRuns({
        ...(request.runIdPrefix !== "" && { runIdPrefix: request.runIdPrefix }),
        ...(request.workflowNames.length > 0 && { workflowNames: request.workflowNames }),
        ...(request.statuses.length > 0 && { statuses: request.statuses }),
        ...(request.pageSize > 0 && { pageSize: Math.min(request.pageSize, limits.maxPageEvents) }),
        ...(request.pageToken !== "" && { pageToken: request.pageToken }),
      });
      return { runs: [...result.runs], nextPageToken: result.nextPageToken };
    },
  };

  function subscribe(request: SubscribeRequest, context: HandlerContext): AsyncIterable<SubscribeResponseInit> {
    // Not a generator around runSubscription: every message would pay for the
    // extra level (stream-end.ts). Errors are mapped here, not by withErrorMapping.
    return onStreamEnd(
      () => {
        const spec = subscriptionSpec(request, limits, encodingOf(context));
        if (subscriptions >= maxSubscriptions) {
          throw new LimitExceededError("max_subscriptions", BigInt(subscriptions + 1), BigInt(maxSubscriptions));
        }
        subscriptions++;
        return runSubscription(store, spec, subscription, context.signal, encodeLive);
      },
      {
        end: () => {
          subscriptions--;
        },
        mapError: (error) => mapError(error, context),
      },
    );
  }

  return withErrorMapping(impl, mapError);
}

function subscriptionSpec(request: SubscribeRequest, limits: Limits, encoding: Encoding): SubscriptionSpec {
  if (request.runId !== "") validateRunId(request.runId, "run_id", limits);
  const filter = toStoreFilter(request.filter, "filter", limits);
  const runId = request.runId === "" ? undefined : request.runId;
  switch (request.start.case) {
    case undefined:
    case "fromBeginning":
      return { runId, filter, encoding, start: { kind: "beginning" } };
    case "after":
      return { runId, filter, encoding, start: { kind: "after", after: request.start.value } };
    case "fromNow":
      return { runId, filter, encoding, start: { kind: "now" } };
  }
}

/** JSON when the request came as JSON (application/connect+json, application/grpc+json, …). */
function encodingOf(context: HandlerContext): Encoding {
  return /json/i.test(context.requestHeader.get("content-type") ?? "") ? "json" : "binary";
}

/**
 * Errors as they leave a method: through toConnectError. A cancelled call
 * (client gone, deadline, shutdown) ends with the signal's reason, not as an
 * internal error.
 */
function errorMapper(logger: Logger): (error: unknown, context: HandlerContext) => ConnectError {
  return (error, context) => {
    if (error !== undefined && error === cancellationReason(context)) {
      return ConnectError.from(error, Code.Canceled);
    }
    return toConnectError(error, logger, { method: context.method.name });
  };
}

/** Every unary method's errors through `map`; subscribe maps its own. */
function withErrorMapping(
  impl: EventStoreServiceImpl,
  map: (error: unknown, context: HandlerContext) => ConnectError,
): EventStoreServiceImpl {
  const unary =
    <I, O>(fn: (request: I, context: HandlerContext) => O | Promise<O>) =>
    async (request: I, context: HandlerContext): Promise<O> => {
      try {
        return await fn(request, context);
      } catch (error) {
        throw map(error, context);
      }
    };
  return {
    append: unary(impl.append),
    appendBatch: unary(impl.appendBatch),
    load: unary(impl.load),
    getLastSequence: unary(impl.getLastSequence),
    readLog: unary(impl.readLog),
    getRunState: unary(impl.getRunState),
    listRuns: unary(impl.listRuns),
    subscribe: impl.subscribe,
  } as EventStoreServiceImpl;
}
