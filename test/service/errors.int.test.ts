// Every domain error reaches every client with its code and typed detail
// (ARCHITECTURE §8), on both ports; a bug is INTERNAL with a generic message,
// its cause logged and never sent.
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ConcurrencyConflictSchema,
  EventIdConflictSchema,
  FieldViolationSchema,
  LifecycleViolationSchema,
  LimitExceededSchema,
  RunNotFoundSchema,
} from "../../gen/runlog/v1/errors_pb.js";
import { EventType } from "../../gen/runlog/v1/event_pb.js";
import type { RunStatus } from "../../gen/runlog/v1/run_state_pb.js";
import { defaultLimits } from "../../src/limits.js";
import type { RunningServer } from "../../src/server.js";
import type { EventStore } from "../../src/store/event-store.js";
import { createMemoryEventStore } from "../../src/store/memory/memory-event-store.js";
import { clientKinds, type EventStoreClient } from "../support/clients.js";
import {
  customEvent,
  newId,
  stepCompleted,
  stepStarted,
  uniqueRunId,
  workflowCompleted,
  workflowStarted,
} from "../support/events.js";
import { recordingLogger, startTestServer } from "../support/server.js";

let server: RunningServer;
const logger = recordingLogger();
const secret = "secret detail of a bug at /srv/runlog/src/store.ts:42";

/** A memory store whose reads of run "explode" fail like a bug would. */
function storeWithABug(): EventStore {
  const store = createMemoryEventStore({ limits: { ...defaultLimits, maxBatchEvents: 3 } });
  return {
    ...store,
    snapshots: store.snapshots,
    async getLastSequence(runId) {
      if (runId === "explode") throw new TypeError(secret);
      return store.getLastSequence(runId);
    },
  };
}

beforeAll(async () => {
  server = await startTestServer({ limits: { maxBatchEvents: 3 } }, { logger, store: storeWithABug() });
});
afterAll(async () => {
  await server.stop();
});

async function rejection(promise: Promise<unknown>): Promise<ConnectError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ConnectError);
    return error as ConnectError;
  }
  throw new Error("expected the call to fail");
}

describe.each(clientKinds)("$name", (kind) => {
  let client: EventStoreClient;
  let close: () => void;
  beforeAll(() => {
    ({ client, close } = kind.create(server));
  });
  afterAll(() => close());

  it("INVALID_ARGUMENT with a FieldViolation naming the field", async () => {
    const error = await rejection(client.append({ event: workflowStarted("") }));
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.findDetails(FieldViolationSchema)).toEqual([
      expect.objectContaining({ field: "event.run_id", description: "is required" }),
    ]);
    const missing = await rejection(client.append({}));
    expect(missing.findDetails(FieldViolationSchema)[0]?.field).toBe("event");
  });

  it("INVALID_ARGUMENT for unknown enum values, naming the field", async () => {
    const runId = uniqueRunId();
    const badType = await rejection(
      client.append({ event: workflowStarted(runId, {}, { type: 99 as EventType }) }),
    );
    expect(badType.code).toBe(Code.InvalidArgument);
    expect(badType.findDetails(FieldViolationSchema)[0]?.field).toBe("event.type");

    const badFilter = await rejection(client.readLog({ filter: { types: [EventType.STEP_STARTED, 77 as EventType] } }));
    expect(badFilter.code).toBe(Code.InvalidArgument);
    expect(badFilter.findDetails(FieldViolationSchema)[0]?.field).toBe("filter.types[1]");

    const badStatus = await rejection(client.listRuns({ statuses: [42 as RunStatus] }));
    expect(badStatus.findDetails(FieldViolationSchema)[0]?.field).toBe("statuses[0]");

    const badSubscribe = client.subscribe({ filter: { types: [1234 as EventType] } });
    const streamError = await rejection((async () => {
      for await (const _ of badSubscribe) void _;
    })());
    expect(streamError.code).toBe(Code.InvalidArgument);
    expect(streamError.findDetails(FieldViolationSchema)[0]?.field).toBe("filter.types[0]");
    expect(await server.store.getLastSequence(runId)).toBe(0n);
  });

  it("ABORTED with a ConcurrencyConflict {run, expected, actual}", async () => {
    const runId = uniqueRunId();
    await client.append({ event: workflowStarted(runId) });
    const error = await rejection(
      client.append({ event: stepStarted(runId, {}, { stepName: "a" }), expectedLastSequence: 5n }),
    );
    expect(error.code).toBe(Code.Aborted);
    expect(error.findDetails(ConcurrencyConflictSchema)).toEqual([
      expect.objectContaining({ runId, expected: 5n, actual: 1n }),
    ]);
    // A client-given sequence that is not the next one.
    const bySequence = await rejection(client.append({ event: stepStarted(runId, {}, { stepName: "a", sequence: 7 }) }));
    expect(bySequence.code).toBe(Code.Aborted);
    expect(bySequence.findDetails(ConcurrencyConflictSchema)[0]).toMatchObject({ expected: 6n, actual: 1n });
  });

  it("ABORTED, not a lifecycle rule, when the writer's expectation is stale", async () => {
    const runId = uniqueRunId();
    await client.appendBatch({ events: [workflowStarted(runId), workflowCompleted(runId)] });
    const error = await rejection(client.append({ event: customEvent(runId, { name: "late" }), expectedLastSequence: 1n }));
    expect(error.code).toBe(Code.Aborted);
    expect(error.findDetails(ConcurrencyConflictSchema)[0]).toMatchObject({ runId, expected: 1n, actual: 2n });
    // With the right expectation, the rule speaks.
    const rule = await rejection(client.append({ event: customEvent(runId, { name: "late" }), expectedLastSequence: 2n }));
    expect(rule.findDetails(LifecycleViolationSchema)[0]?.rule).toBe("no-event-after-terminal");
  });

  it("ALREADY_EXISTS with an EventIdConflict", async () => {
    const runId = uniqueRunId();
    const id = newId();
    await client.append({ event: workflowStarted(runId, {}, { id }) });
    const error = await rejection(client.append({ event: stepStarted(runId, {}, { stepName: "x", id }) }));
    expect(error.code).toBe(Code.AlreadyExists);
    expect(error.findDetails(EventIdConflictSchema)).toEqual([
      expect.objectContaining({ eventId: id, runId, sequence: 1n }),
    ]);
  });

  it("FAILED_PRECONDITION with a LifecycleViolation naming the rule", async () => {
    const runId = uniqueRunId();
    await client.append({ event: workflowStarted(runId) });
    const error = await rejection(client.append({ event: stepCompleted(runId, {}, { stepName: "never-started" }) }));
    expect(error.code).toBe(Code.FailedPrecondition);
    expect(error.findDetails(LifecycleViolationSchema)).toEqual([
      expect.objectContaining({ rule: "step-completed-needs-started", runId, sequence: 2n }),
    ]);
    expect(await server.store.getLastSequence(runId)).toBe(1n);
  });

  it("RESOURCE_EXHAUSTED with a LimitExceeded", async () => {
    const runId = uniqueRunId();
    const events = [workflowStarted(runId), ...["a", "b", "c"].map((s) => stepStarted(runId, {}, { stepName: s }))];
    const error = await rejection(client.appendBatch({ events }));
    expect(error.code).toBe(Code.ResourceExhausted);
    expect(error.findDetails(LimitExceededSchema)).toEqual([
      expect.objectContaining({ limit: "max_batch_events", value: 4n, max: 3n }),
    ]);
    expect(await server.store.getLastSequence(runId)).toBe(0n);
  });

  it("NOT_FOUND with a RunNotFound, also as of a sequence beyond the run", async () => {
    const runId = uniqueRunId();
    const unknown = await rejection(client.getRunState({ runId }));
    expect(unknown.code).toBe(Code.NotFound);
    expect(unknown.findDetails(RunNotFoundSchema)).toEqual([expect.objectContaining({ runId, lastSequence: 0n })]);
    await client.append({ event: workflowStarted(runId) });
    const beyond = await rejection(client.getRunState({ runId, asOfSequence: 9n }));
    expect(beyond.code).toBe(Code.NotFound);
    expect(beyond.findDetails(RunNotFoundSchema)[0]).toMatchObject({ runId, lastSequence: 1n });
  });

  it("INTERNAL with a generic message for a bug; the cause is logged, not sent", async () => {
    const before = logger.entries.length;
    const error = await rejection(client.getLastSequence({ runId: "explode" }));
    expect(error.code).toBe(Code.Internal);
    expect(error.rawMessage).toBe("internal error");
    expect(JSON.stringify(error)).not.toContain("secret");
    expect(String(error.stack)).not.toContain("/srv/runlog");
    expect(error.details).toEqual([]);
    const logged = logger.entries.slice(before).find((e) => e.level === "error");
    expect((logged?.fields as { err?: Error }).err?.message).toBe(secret);
  });
});
