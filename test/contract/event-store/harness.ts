// Shared helpers of the EventStore contract suite. They use the port only, so
// that every store (memory, postgres) runs the suite unchanged.
import { clone } from "@bufbuild/protobuf";
import { expect } from "vitest";
import { EventSchema, type Event } from "../../../gen/runlog/v1/event_pb.js";
import { typeOfPayloadCase } from "../../../src/events/catalog.js";
import type { Limits } from "../../../src/limits.js";
import type { EventFilter, EventStore } from "../../../src/store/event-store.js";
import { stepStarted, type EnvelopeInit } from "../../support/events.js";

/** What each section of the suite sees: the store of the running test case. */
export interface ContractContext {
  /** A fresh store per test case. */
  readonly store: () => EventStore;
  /** The limits the store was configured with. */
  readonly limits: Limits;
}

/** Awaits a promise that must reject with `type`; returns the error for further checks. */
export async function rejection<T extends Error>(
  promise: Promise<unknown>,
  type: abstract new (...args: never[]) => T,
): Promise<T> {
  let result: unknown;
  try {
    result = await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(type);
    return error as T;
  }
  return expect.fail(`expected ${type.name}, but the call resolved with ${String(result)}`);
}

/** `count` step.started events for one run with client sequences from..from+count-1. */
export function sequenced(runId: string, count: number, from = 1, envelope: EnvelopeInit = {}): Event[] {
  return Array.from({ length: count }, (_, i) =>
    stepStarted(runId, { attempt: 1 }, { stepName: `s${from + i}`, ...envelope, sequence: from + i }),
  );
}

/** `count` step.started events for one run, sequences left to the store. */
export function unsequenced(runId: string, count: number, envelope: EnvelopeInit = {}): Event[] {
  return Array.from({ length: count }, (_, i) => stepStarted(runId, {}, { stepName: `u${i}`, ...envelope }));
}

/** All of a run's events, following the pages. */
export async function loadAll(store: EventStore, runId: string, filter?: EventFilter): Promise<Event[]> {
  const events: Event[] = [];
  let after = 0n;
  for (let pages = 0; pages < 100_000; pages++) {
    const page = await store.load(runId, { afterSequence: after, filter });
    events.push(...page.events);
    if (!page.hasMore) return events;
    expect(page.nextAfterSequence).toBeGreaterThan(after);
    after = page.nextAfterSequence;
  }
  return expect.fail("load did not end");
}

/** The whole global log (or a filtered part), following the pages. */
export async function readAll(store: EventStore, filter?: EventFilter, afterPosition = 0n): Promise<Event[]> {
  const events: Event[] = [];
  let after = afterPosition;
  for (let pages = 0; pages < 100_000; pages++) {
    const page = await store.readLog({ afterPosition: after, filter });
    events.push(...page.events);
    if (!page.hasMore) return events;
    expect(page.nextAfterPosition).toBeGreaterThan(after);
    after = page.nextAfterPosition;
  }
  return expect.fail("readLog did not end");
}

/** Head position and the given runs' events: to show that a failed call changed nothing. */
export async function stateOf(store: EventStore, runIds: readonly string[]): Promise<unknown> {
  const runs: Record<string, Event[]> = {};
  for (const runId of runIds) runs[runId] = await loadAll(store, runId);
  return { head: await store.headPosition(), runs };
}

/**
 * What the store must have made of an input event: the same event with the
 * envelope normalized (id lower-case or assigned, version 0 → 1, type from the
 * payload, timestamp when absent) and the store's sequence and position.
 */
export function normalized(input: Event, stored: Pick<Event, "id" | "sequence" | "position" | "timestamp">): Event {
  const expected = clone(EventSchema, input);
  expected.id = input.id === "" ? stored.id : input.id.toLowerCase();
  expected.sequence = stored.sequence;
  expected.position = stored.position;
  if (expected.version === 0) expected.version = 1;
  expected.type = typeOfPayloadCase(input.payload.case!);
  expected.timestamp ??= stored.timestamp;
  return expected;
}

/** 1n, 2n, … nn. */
export function range(from: bigint, count: number): bigint[] {
  return Array.from({ length: count }, (_, i) => from + BigInt(i));
}

/** Positions of events. */
export function positions(events: readonly Event[]): bigint[] {
  return events.map((e) => e.position);
}

/** Sequences of events. */
export function sequences(events: readonly Event[]): bigint[] {
  return events.map((e) => e.sequence);
}
