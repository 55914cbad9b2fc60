// What every store does to a batch before it touches storage: validate each
// event, copy it (the caller's objects are never changed) and normalize the
// envelope: id, version, type, timestamp. Sequences and positions are the store's.
import { randomFillSync } from "node:crypto";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { v7 as uuidv7 } from "uuid";
import type { Event } from "../../gen/runlog/v1/event_pb.js";
import { InvalidArgumentError, LimitExceededError } from "../errors.js";
import { validateEvent, validateRunId } from "../events/validate.js";
import type { Limits } from "../limits.js";
import { compactTimestamp, compactValue, flat } from "./compact.js";
import type { AppendOptions } from "./event-store.js";

export interface PreparedBatch {
  /** Normalized copies, in input order. */
  readonly events: Event[];
  /** Whether the input event at the same index carried its own id (only those can be retries). */
  readonly clientIds: boolean[];
  /** Whether the input event at the same index carried its own timestamp. */
  readonly clientTimestamps: boolean[];
  /** Event indexes by run, in batch order. */
  readonly byRun: Map<string, number[]>;
}

export function prepareBatch(input: readonly Event[], options: AppendOptions | undefined, limits: Limits): PreparedBatch {
  if (input.length === 0) throw new InvalidArgumentError("events", "must not be empty");
  if (input.length > limits.maxBatchEvents) {
    throw new LimitExceededError("max_batch_events", BigInt(input.length), BigInt(limits.maxBatchEvents));
  }
  const field = input.length === 1 ? (i: number) => (i === 0 ? "event" : "") : (i: number) => `events[${i}]`;
  const events: Event[] = new Array(input.length);
  const clientIds: boolean[] = new Array(input.length);
  const clientTimestamps: boolean[] = new Array(input.length);
  const byRun = new Map<string, number[]>();
  const ids = new Set<string>();
  let now: ReturnType<typeof timestampNow> | undefined;
  for (let i = 0; i < input.length; i++) {
    const source = input[i]!;
    const type = validateEvent(source, field(i), limits);
    const id = source.id === "" ? uuidv7(uuidOptions) : source.id.toLowerCase();
    // Only a client's IDs can repeat: the ones assigned here are fresh UUIDv7s.
    if (input.length > 1 && source.id !== "") {
      if (ids.has(id)) throw new InvalidArgumentError(`${field(i)}.id`, "is used twice in one batch");
      ids.add(id);
    }
    // A plain literal, not create(): the fields are all given and already of the right
    // types, and create() (which initializes every field afresh) was the hottest
    // frame of AppendBatch after decoding (bench/OPTIMISATIONS.md).
    const event: Event = {
      $typeName: "runlog.v1.Event",
      id,
      runId: source.runId,
      sequence: source.sequence,
      version: source.version === 0 ? 1 : source.version,
      type,
      stepName: flat(source.stepName),
      payload: source.payload,
      output: source.output && compactValue(source.output),
      timestamp: source.timestamp ? compactTimestamp(source.timestamp) : (now ??= compactTimestamp(timestampNow())),
      metadata: source.metadata,
      position: 0n,
    };
    for (const key in event.metadata) flat(event.metadata[key]!);
    events[i] = event;
    clientIds[i] = source.id !== "";
    clientTimestamps[i] = source.timestamp !== undefined;
    const indexes = byRun.get(event.runId);
    if (indexes === undefined) byRun.set(event.runId, [i]);
    else indexes.push(i);
  }
  for (const indexes of byRun.values()) checkConsecutive(events, indexes, field);
  for (const [runId, expected] of options?.expected ?? []) {
    validateRunId(runId, "expected.run_id", limits);
    if (expected < 0n) throw new InvalidArgumentError("expected.last_sequence", "must not be negative");
  }
  return { events, clientIds, clientTimestamps, byRun };
}

/**
 * Random bytes for event IDs. uuid's own source refills a 256-byte pool with a
 * crypto call every 15 IDs (6 % of a unary Append's CPU in the profile); this one
 * holds 16 KiB, a call every 1,024 IDs. v7() reads the 16 bytes at once.
 */
const randomPool = new Uint8Array(16 * 1024);
let randomAt = randomPool.length;
const uuidOptions = {
  rng(): Uint8Array {
    if (randomAt === randomPool.length) {
      randomFillSync(randomPool);
      randomAt = 0;
    }
    randomAt += 16;
    return randomPool.subarray(randomAt - 16, randomAt);
  },
};

/**
 * Within one batch, the client-given sequences of one run must be consecutive
 * (a 0 takes the next one). A gap or a repeat is malformed whatever the store
 * holds, so it is INVALID_ARGUMENT naming the field; whether the first given
 * sequence follows the run's last one is the store's check (numberRunEvents).
 */
function checkConsecutive(events: readonly Event[], indexes: readonly number[], field: (i: number) => string): void {
  let previous: bigint | undefined;
  let previousIndex = -1;
  for (const i of indexes) {
    const sequence = events[i]!.sequence;
    if (sequence === 0n) {
      if (previous !== undefined) {
        previous++;
        previousIndex = i;
      }
      continue;
    }
    if (previous !== undefined && sequence !== previous + 1n) {
      throw new InvalidArgumentError(
        `${field(i)}.sequence`,
        `is ${sequence}, but the run's previous event in the batch, ${field(previousIndex)}, has sequence ${previous}: ` +
          "a run's sequences in a batch must be consecutive",
      );
    }
    previous = sequence;
    previousIndex = i;
  }
}
