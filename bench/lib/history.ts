// Realistic workflow histories for the benchmarks: an order-fulfilment run that
// starts, then loops over a pool of steps (started → completed with an output,
// now and then a failure and a retry, a branch, a context update). Each event
// encodes to roughly 150–250 bytes, like the 200-byte messages of ARCHITECTURE §2.
import { create, fromJson, toBinary, type JsonValue } from "@bufbuild/protobuf";
import { ValueSchema, type Timestamp } from "@bufbuild/protobuf/wkt";
import { EventSchema, type Event } from "../../gen/runlog/v1/event_pb.js";
import { AppendBatchRequestSchema, AppendRequestSchema } from "../../gen/runlog/v1/event_store_pb.js";

const value = (json: JsonValue) => fromJson(ValueSchema, json);

const baseSeconds = 1_790_000_000n;
function timestampAt(i: number): Timestamp {
  return { $typeName: "google.protobuf.Timestamp", seconds: baseSeconds + BigInt(i >> 10), nanos: (i & 1023) * 976_000 };
}

function traceMetadata(runId: string, i: number): Record<string, string> {
  return {
    traceparent: `00-${runId.padEnd(32, "0").slice(0, 32)}-${(i + 1).toString(16).padStart(16, "0")}-01`,
  };
}

export interface HistoryOptions {
  /** Step names cycle through this many distinct steps (default 100). */
  readonly distinctSteps?: number;
  /** Leave sequence 0 (server-assigned) instead of numbering 1.. (default false). */
  readonly serverSequences?: boolean;
  /** Give every event a timestamp (default true; false lets the store assign it). */
  readonly timestamps?: boolean;
}

export function workflowStarted(runId: string): Event {
  return create(EventSchema, {
    runId,
    stepName: "",
    payload: {
      case: "workflowStarted",
      value: {
        workflowName: "order-fulfilment",
        version: 3,
        input: value({ orderId: runId, customer: "c-1042", amount: 129.95, items: ["sku-1", "sku-7"] }),
      },
    },
    metadata: traceMetadata(runId, 0),
  });
}

/** The i-th event (0-based) after workflow.started in the body of a run. */
function bodyEvent(runId: string, i: number, distinctSteps: number): Event {
  // A cycle of 8 events: started, completed, started, failed (retry), started, completed, branch, context.
  const cycle = Math.floor(i / 8);
  const k = i % 8;
  const step = `step-${(cycle * 2 + (k >= 2 ? 1 : 0)) % distinctSteps}`;
  const metadata = traceMetadata(runId, i + 1);
  switch (k) {
    case 0:
    case 2:
      return create(EventSchema, { runId, stepName: step, payload: { case: "stepStarted", value: { attempt: 1 } }, metadata });
    case 1:
    case 5:
      return create(EventSchema, {
        runId,
        stepName: step,
        payload: { case: "stepCompleted", value: { duration: { seconds: 0n, nanos: 1_250_000 + i } } },
        output: value({ status: "ok", reference: `INV-${(i + 1).toString().padStart(6, "0")}`, lines: 3 }),
        metadata,
      });
    case 3:
      return create(EventSchema, {
        runId,
        stepName: step,
        payload: { case: "stepFailed", value: { error: "payment gateway timeout", attempt: 1, willRetry: true } },
        metadata,
      });
    case 4:
      return create(EventSchema, { runId, stepName: step, payload: { case: "stepStarted", value: { attempt: 2 } }, metadata });
    case 6:
      // A branch decision every fourth cycle (RunState keeps every decision), else a context update.
      if (cycle % 4 === 0) {
        return create(EventSchema, {
          runId,
          stepName: step,
          payload: { case: "branchEvaluated", value: { branchName: "shipping", choice: cycle % 8 ? "express" : "standard" } },
          metadata,
        });
      }
      return create(EventSchema, {
        runId,
        payload: { case: "contextUpdated", value: { key: "last-reference", value: value(`INV-${(i + 1).toString().padStart(6, "0")}`) } },
        metadata,
      });
    default:
      return create(EventSchema, {
        runId,
        payload: { case: "contextUpdated", value: { key: "progress", value: value({ cycle, done: cycle * 2 }) } },
        metadata,
      });
  }
}

/** Events 1..length of a run (sequence i+1 unless serverSequences). */
export function workflowHistory(runId: string, length: number, options: HistoryOptions = {}): Event[] {
  const distinctSteps = options.distinctSteps ?? 100;
  const events: Event[] = new Array(length);
  for (let i = 0; i < length; i++) {
    const e = i === 0 ? workflowStarted(runId) : bodyEvent(runId, i - 1, distinctSteps);
    if (!options.serverSequences) e.sequence = BigInt(i + 1);
    if (options.timestamps !== false) e.timestamp = timestampAt(i);
    events[i] = e;
  }
  return events;
}

/** Events of the run's body only, continuing after `after` events (for appending to a started run). */
export function workflowBody(runId: string, after: number, count: number, options: HistoryOptions = {}): Event[] {
  const distinctSteps = options.distinctSteps ?? 100;
  const events: Event[] = new Array(count);
  for (let j = 0; j < count; j++) {
    const i = after + j;
    const e = bodyEvent(runId, i - 1, distinctSteps);
    if (!options.serverSequences) e.sequence = BigInt(i + 1);
    if (options.timestamps !== false) e.timestamp = timestampAt(i);
    events[j] = e;
  }
  return events;
}

/**
 * An event that can be appended any number of times to a started run
 * (context.updated, sequence assigned by the server): the unary Append payload.
 */
export function repeatableEvent(runId: string): Event {
  return create(EventSchema, {
    runId,
    payload: {
      case: "contextUpdated",
      value: { key: "progress", value: value({ status: "running", reference: "INV-000123", lines: 3 }) },
    },
    metadata: traceMetadata(runId, 1),
  });
}

export function encodeAppend(event: Event, expectedLastSequence?: bigint): Uint8Array {
  return toBinary(AppendRequestSchema, create(AppendRequestSchema, { event, expectedLastSequence }));
}

export function encodeAppendBatch(events: Event[]): Uint8Array {
  return toBinary(AppendBatchRequestSchema, create(AppendBatchRequestSchema, { events }));
}

export function encodedSize(event: Event): number {
  return toBinary(EventSchema, event).length;
}

/**
 * Re-targets pre-encoded request bytes to another run without re-encoding: every
 * occurrence of `from`'s bytes is overwritten with `to`'s (same length required).
 * The offsets are found once per template.
 */
export interface RunTemplate {
  readonly bytes: Uint8Array;
  readonly runId: string;
  readonly offsets: readonly number[];
}

export function runTemplate(bytes: Uint8Array, runId: string): RunTemplate {
  const needle = Buffer.from(runId, "utf8");
  const haystack = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const offsets: number[] = [];
  for (let i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + needle.length)) offsets.push(i);
  return { bytes, runId, offsets };
}

export function forRun(template: RunTemplate, runId: string): Uint8Array {
  const to = Buffer.from(runId, "utf8");
  if (to.length !== Buffer.byteLength(template.runId)) throw new Error(`run id ${runId} must have the template's length`);
  const out = new Uint8Array(template.bytes);
  for (const o of template.offsets) out.set(to, o);
  return out;
}
