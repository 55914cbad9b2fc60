// Helpers shared by the reconstructor's tests: numbering built events, pure
// replays, fixtures, and appending through validate → append → afterAppend the
// way the service does.
import { equals, fromJson, toJson, type JsonValue } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { readFileSync } from "node:fs";
import { expect } from "vitest";
import { EventSchema, type Event } from "../../gen/runlog/v1/event_pb.js";
import { RunStateSchema, type RunState } from "../../gen/runlog/v1/run_state_pb.js";
import { evolve } from "../../src/reconstruct/evolve.js";
import { initialRunState } from "../../src/reconstruct/initial-state.js";
import type { Reconstructor } from "../../src/reconstruct/reconstructor.js";
import type { RunModel } from "../../src/reconstruct/run-model.js";
import { toRunState } from "../../src/reconstruct/to-run-state.js";
import type { EventStore } from "../../src/store/event-store.js";

/** 2025-01-01T00:00:00Z */
export const baseMs = Date.UTC(2025, 0, 1);

/**
 * Gives built events (one run, in order) sequences 1, 2, … and, where missing,
 * timestamps one second apart from baseMs. Mutates and returns them.
 */
export function numbered(events: Event[], firstSequence = 1): Event[] {
  events.forEach((event, i) => {
    const sequence = firstSequence + i;
    event.sequence = BigInt(sequence);
    event.timestamp ??= timestampFromMs(baseMs + sequence * 1000);
  });
  return events;
}

/** The working state after folding these events from scratch. */
export function replay(runId: string, events: readonly Event[]): RunModel {
  const model = initialRunState(runId);
  for (const event of events) evolve(model, event);
  return model;
}

/** The RunState after folding these events from scratch. */
export function stateOf(runId: string, events: readonly Event[]): RunState {
  return toRunState(replay(runId, events));
}

/** Asserts two run states are equal, showing a JSON diff when they are not. */
export function expectSameState(actual: RunState, expected: RunState): void {
  // expect() only on a difference: property tests call this thousands of times.
  if (!equals(RunStateSchema, actual, expected)) {
    expect(toJson(RunStateSchema, actual)).toEqual(toJson(RunStateSchema, expected));
    expect.fail("run states differ where their JSON does not");
  }
}

/** Byte equality (toEqual on large Uint8Arrays is slow). */
export function expectSameBytes(actual: Uint8Array, expected: Uint8Array | undefined): void {
  if (expected === undefined || !Buffer.from(actual).equals(Buffer.from(expected))) expect(actual).toEqual(expected);
}

export interface Fixture {
  /** All events, in recorded (position) order. */
  readonly events: Event[];
  /** Expected state per run. */
  readonly expected: Map<string, RunState>;
}

export function loadFixture(name: string): Fixture {
  const read = (file: string): JsonValue => JSON.parse(readFileSync(new URL(`../fixtures/${file}`, import.meta.url), "utf8"));
  const events = (read(`${name}.events.json`) as JsonValue[]).map((e) => fromJson(EventSchema, e));
  const expected = new Map<string, RunState>();
  for (const [runId, state] of Object.entries(read(`${name}.state.json`) as { [k: string]: JsonValue })) {
    expected.set(runId, fromJson(RunStateSchema, state));
  }
  return { events, expected };
}

export function eventsOfRun(events: readonly Event[], runId: string): Event[] {
  return events.filter((e) => e.runId === runId);
}

/**
 * Appends a batch the way the service does: validateAppend, append with the
 * returned expectations, then afterAppend with the stored events.
 */
export async function appendChecked(store: EventStore, reconstructor: Reconstructor, batch: readonly Event[]): Promise<Event[]> {
  const expected = await reconstructor.validateAppend(batch);
  const result = await store.append(batch, { expected });
  const stored = await storedEvents(store, result.events);
  await reconstructor.afterAppend(stored);
  return stored;
}

/** The stored events for append results (in result order). */
export async function storedEvents(
  store: EventStore,
  appended: readonly { runId: string; sequence: bigint }[],
): Promise<Event[]> {
  const out: Event[] = [];
  for (const a of appended) {
    const page = await store.load(a.runId, { afterSequence: a.sequence - 1n, limit: 1 });
    out.push(page.events[0]!);
  }
  return out;
}
