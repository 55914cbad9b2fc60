// Bad input: each case is rejected with the typed error naming the field, and
// the store is exactly as it was. Every event case runs twice: as a single
// event ("event.…") and as the second event of a batch ("events[1].…").
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { EventSchema, EventType, type Event } from "../../../gen/runlog/v1/event_pb.js";
import { InvalidArgumentError, LimitExceededError } from "../../../src/errors.js";
import type { Limits } from "../../../src/limits.js";
import type { AppendOptions } from "../../../src/store/event-store.js";
import { customEvent, newId, stepCompleted, stepStarted, uniqueRunId, workflowStarted } from "../../support/events.js";
import { loadAll, rejection, stateOf, type ContractContext } from "./harness.js";

interface BadEventCase {
  readonly label: string;
  /** The field, after "event." or "events[1].". */
  readonly field: string;
  readonly make: (runId: string, limits: Limits) => Event;
}

const metadataOf = (entries: number, valueLength = 1): Record<string, string> =>
  Object.fromEntries(Array.from({ length: entries }, (_, i) => [`k${i}`, "v".repeat(valueLength)]));

const badEvents: readonly BadEventCase[] = [
  { label: "empty run id", field: "run_id", make: () => stepStarted("") },
  { label: "run id with a newline", field: "run_id", make: (r) => stepStarted(`${r}\n`) },
  { label: "run id with a NUL", field: "run_id", make: (r) => stepStarted(`a\u0000${r}`) },
  { label: "run id with DEL", field: "run_id", make: (r) => stepStarted(`${r}\u007f`) },
  { label: "run id with a C1 control", field: "run_id", make: (r) => stepStarted(`${r}\u0085`) },
  { label: "run id over the length limit", field: "run_id", make: (_, l) => stepStarted("r".repeat(l.maxRunIdLength + 1)) },
  { label: "id that is not a UUID", field: "id", make: (r) => stepStarted(r, {}, { id: "not-a-uuid" }) },
  { label: "id with braces", field: "id", make: (r) => stepStarted(r, {}, { id: `{${newId()}}` }) },
  { label: "id one digit short", field: "id", make: (r) => stepStarted(r, {}, { id: newId().slice(1) }) },
  { label: "negative sequence", field: "sequence", make: (r) => stepStarted(r, {}, { sequence: -1n }) },
  { label: "negative version", field: "version", make: (r) => stepStarted(r, {}, { version: -1 }) },
  {
    label: "type that does not match the payload",
    field: "type",
    make: (r) => stepStarted(r, {}, { type: EventType.WORKFLOW_STARTED }),
  },
  { label: "unknown type", field: "type", make: (r) => stepStarted(r, {}, { type: 999 as EventType }) },
  { label: "missing payload", field: "payload", make: (r) => create(EventSchema, { runId: r }) },
  {
    label: "missing payload with a type",
    field: "payload",
    make: (r) => create(EventSchema, { runId: r, type: EventType.STEP_STARTED }),
  },
  { label: "output on a non-completion event", field: "output", make: (r) => stepStarted(r, {}, { output: { x: 1 } }) },
  { label: "output on workflow.started", field: "output", make: (r) => workflowStarted(r, {}, { output: 1 }) },
  {
    label: "step name over the length limit",
    field: "step_name",
    make: (r, l) => stepStarted(r, {}, { stepName: "s".repeat(l.maxNameLength + 1) }),
  },
  {
    label: "too many metadata entries",
    field: "metadata",
    make: (r, l) => stepStarted(r, {}, { metadata: metadataOf(l.maxMetadataEntries + 1) }),
  },
  {
    label: "metadata over the size limit",
    field: "metadata",
    make: (r, l) => stepStarted(r, {}, { metadata: { k: "v".repeat(l.maxMetadataSize) } }),
  },
  { label: "empty metadata key", field: "metadata", make: (r) => stepStarted(r, {}, { metadata: { "": "v" } }) },
  {
    // The field names the key (its first 32 characters).
    label: "metadata key over the length limit",
    field: `metadata[${JSON.stringify("k".repeat(32))}]`,
    make: (r, l) => stepStarted(r, {}, { metadata: { ["k".repeat(l.maxNameLength + 1)]: "v" } }),
  },
  { label: "custom event without a name", field: "custom.name", make: (r) => customEvent(r, { name: "", json: 1 }) },
  {
    label: "custom event name over the length limit",
    field: "custom.name",
    make: (r, l) => customEvent(r, { name: "n".repeat(l.maxNameLength + 1) }),
  },
];

/** Inputs at the limits, which must be accepted. */
const edgeEvents: readonly { label: string; make: (runId: string, limits: Limits) => Event[] }[] = [
  { label: "a run id at the length limit", make: (r, l) => [stepStarted(r.padEnd(l.maxRunIdLength, "x"))] },
  { label: "a run id with spaces and unicode", make: (r) => [stepStarted(`${r} ünï cödé ✓ 🚀`)] },
  { label: "a step name at the length limit", make: (r, l) => [stepStarted(r, {}, { stepName: "s".repeat(l.maxNameLength) })] },
  { label: "metadata with the most entries", make: (r, l) => [stepStarted(r, {}, { metadata: metadataOf(l.maxMetadataEntries) })] },
  {
    label: "metadata at the size limit",
    make: (r, l) => [stepStarted(r, {}, { metadata: { k: "v".repeat(l.maxMetadataSize - 1) } })],
  },
  { label: "an upper-case UUID", make: (r) => [stepStarted(r, {}, { id: newId().toUpperCase() })] },
  { label: "the type given and matching", make: (r) => [stepStarted(r, {}, { type: EventType.STEP_STARTED })] },
  { label: "output on a completion event", make: (r) => [stepCompleted(r, {}, { output: { ok: true } })] },
  { label: "an empty step name and no metadata", make: (r) => [stepStarted(r, {}, { stepName: "" })] },
];

export function badInput(ctx: ContractContext): void {
  describe("bad input", () => {
    /** A run with two events, the state before the call, and a check that nothing changed. */
    async function seeded(): Promise<{ runId: string; unchanged: () => Promise<void> }> {
      const store = ctx.store();
      const runId = uniqueRunId();
      await store.append([workflowStarted(runId), stepStarted(runId)]);
      const before = await stateOf(store, [runId]);
      return {
        runId,
        unchanged: async () => expect(await stateOf(store, [runId])).toEqual(before),
      };
    }

    describe.each(badEvents)("$label", ({ field, make }) => {
      it(`single event: InvalidArgumentError on event.${field}, store unchanged`, async () => {
        const { runId, unchanged } = await seeded();
        const error = await rejection(ctx.store().append([make(runId, ctx.limits)]), InvalidArgumentError);
        expect(error.field).toBe(`event.${field}`);
        await unchanged();
      });

      it(`second event of a batch: InvalidArgumentError on events[1].${field}, nothing stored`, async () => {
        const { runId, unchanged } = await seeded();
        const batch = [stepStarted(runId, {}, { stepName: "fine" }), make(runId, ctx.limits)];
        const error = await rejection(ctx.store().append(batch), InvalidArgumentError);
        expect(error.field).toBe(`events[1].${field}`);
        await unchanged();
      });
    });

    it("an empty batch: InvalidArgumentError on events", async () => {
      const { unchanged } = await seeded();
      const error = await rejection(ctx.store().append([]), InvalidArgumentError);
      expect(error.field).toBe("events");
      await unchanged();
    });

    it.each([
      { label: "a gap", sequences: [3, 5] },
      { label: "a repeat", sequences: [3, 3] },
      { label: "a step back", sequences: [4, 3] },
      { label: "a gap after an assigned one", sequences: [3, 0, 6] },
    ])("a batch whose sequences for one run have $label: InvalidArgumentError on the sequence", async ({ sequences }) => {
      const { runId, unchanged } = await seeded();
      const other = uniqueRunId("other");
      // Another run's events in between do not count.
      const batch = sequences.flatMap((sequence, i) => [
        stepStarted(runId, {}, { sequence, stepName: `s${i}` }),
        ...(i === 0 ? [stepStarted(other)] : []),
      ]);
      const error = await rejection(ctx.store().append(batch), InvalidArgumentError);
      expect(error.field).toBe(`events[${batch.length - 1}].sequence`);
      await unchanged();
      expect(await ctx.store().getLastSequence(other)).toBe(0n);
    });

    it("a batch over max_batch_events: LimitExceededError, nothing stored", async () => {
      const { runId, unchanged } = await seeded();
      const max = ctx.limits.maxBatchEvents;
      const batch = Array.from({ length: max + 1 }, () => stepStarted(runId));
      const error = await rejection(ctx.store().append(batch), LimitExceededError);
      expect({ limit: error.limit, value: error.value, max: error.max }).toEqual({
        limit: "max_batch_events",
        value: BigInt(max + 1),
        max: BigInt(max),
      });
      await unchanged();
    });

    it("a batch of exactly max_batch_events is stored", async () => {
      const store = ctx.store();
      const runId = uniqueRunId();
      const max = ctx.limits.maxBatchEvents;
      const result = await store.append(Array.from({ length: max }, () => stepStarted(runId)));
      expect(result.events).toHaveLength(max);
      expect(await store.getLastSequence(runId)).toBe(BigInt(max));
    });

    it.each<{ label: string; field: string; options: (runId: string) => AppendOptions }>([
      { label: "a negative expected sequence", field: "expected.last_sequence", options: (r) => ({ expected: new Map([[r, -1n]]) }) },
      { label: "an expectation for an empty run id", field: "expected.run_id", options: () => ({ expected: new Map([["", 0n]]) }) },
      {
        label: "an expectation for a run id with a control character",
        field: "expected.run_id",
        options: (r) => ({ expected: new Map([[`${r}\t`, 0n]]) }),
      },
    ])("$label: InvalidArgumentError on $field", async ({ field, options }) => {
      const { runId, unchanged } = await seeded();
      const error = await rejection(ctx.store().append([stepStarted(runId)], options(runId)), InvalidArgumentError);
      expect(error.field).toBe(field);
      await unchanged();
    });

    it.each(edgeEvents)("accepts $label", async ({ make }) => {
      const store = ctx.store();
      const input = make(uniqueRunId(), ctx.limits);
      const result = await store.append(input);
      const stored = await loadAll(store, input[0]!.runId);
      expect(stored.map((e) => e.id)).toEqual(result.events.map((e) => e.id));
    });
  });
}
