import fc from "fast-check";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { Event } from "../../gen/runlog/v1/event_pb.js";
import { LifecycleViolationError } from "../../src/errors.js";
import { eventTypeOf } from "../../src/reconstruct/event-type-of.js";
import { evolve } from "../../src/reconstruct/evolve.js";
import { initialRunState } from "../../src/reconstruct/initial-state.js";
import { checkLifecycle, lifecycleRules } from "../../src/reconstruct/lifecycle.js";
import type { RunModel } from "../../src/reconstruct/run-model.js";
import * as b from "../support/events.js";
import { eventsOfRun, loadFixture, numbered } from "./helpers.js";
import { validHistory } from "./histories.js";

const run = "run-l";
type RuleKey = keyof typeof lifecycleRules;

/** Checks each event against the fold of the ones before it; returns the state after all. */
function checkAll(events: readonly Event[]): RunModel {
  const model = initialRunState(run);
  events.forEach((event, i) => {
    const type = eventTypeOf(event);
    checkLifecycle(model, event, type, BigInt(i + 1));
    evolve(model, event, type);
  });
  return model;
}

/** The rule (name) the last event breaks, after the others were accepted; undefined if none. */
function brokenRule(events: Event[]): string | undefined {
  const history = numbered(events);
  const prefix = history.slice(0, -1);
  const model = checkAll(prefix);
  try {
    const last = history[history.length - 1]!;
    checkLifecycle(model, last, eventTypeOf(last), BigInt(history.length));
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(LifecycleViolationError);
    const violation = error as LifecycleViolationError;
    expect(violation.runId).toBe(run);
    expect(violation.sequence).toBe(BigInt(history.length));
    expect(violation.description).not.toBe("");
    return violation.rule;
  }
}

const start = () => b.workflowStarted(run);
const step = (name: string) => ({ stepName: name });

// Each rule with histories whose last event breaks it (and nothing before).
const violations: Record<RuleKey, Array<[string, () => Event[]]>> = {
  firstEventIsWorkflowStarted: [
    ["step before start", () => [b.stepStarted(run)]],
    ["terminal before start", () => [b.workflowCompleted(run)]],
    ["after custom events only", () => [b.customEvent(run), b.snapshotEvent(run), b.signalWaiting(run)]],
    ["compensation before start", () => [b.compensationStarted(run)]],
  ],
  workflowStartedOnce: [
    ["started twice", () => [start(), start()]],
    ["started again later", () => [start(), b.stepStarted(run), start()]],
  ],
  noEventAfterTerminal: [
    ["step after completed", () => [start(), b.workflowCompleted(run), b.stepStarted(run)]],
    ["custom after completed", () => [start(), b.workflowCompleted(run), b.customEvent(run)]],
    ["snapshot after cancelled", () => [start(), b.workflowCancelled(run), b.snapshotEvent(run)]],
    ["compensation after cancelled", () => [start(), b.workflowCancelled(run), b.compensationStarted(run)]],
    ["compensation after completed", () => [start(), b.workflowCompleted(run), b.compensationStarted(run)]],
    ["step after failed", () => [start(), b.workflowFailed(run), b.stepStarted(run)]],
    ["custom after failed", () => [start(), b.workflowFailed(run), b.customEvent(run)]],
    ["completed after failed", () => [start(), b.workflowFailed(run), b.workflowCompleted(run)]],
    ["failed twice", () => [start(), b.workflowFailed(run), b.workflowFailed(run)]],
    ["anything after a finished rollback after failure", () => [start(), b.workflowFailed(run), b.compensationStarted(run), b.compensationCompleted(run), b.workflowFailed(run)]],
  ],
  eventKeyRequired: [
    ["step.started without step_name", () => [start(), b.stepStarted(run, {}, step(""))]],
    ["step.scheduled without step_name", () => [start(), b.stepScheduled(run, {}, step(""))]],
    ["step.completed without step_name", () => [start(), b.stepCompleted(run, {}, step(""))]],
    ["step.skipped without step_name", () => [start(), b.stepSkipped(run, {}, step(""))]],
    ["map.started without step_name", () => [start(), b.mapStarted(run)]],
    ["signal.waiting without signal_name", () => [start(), b.signalWaiting(run, { signalName: "" })]],
    ["signal.received without signal_name", () => [start(), b.signalReceived(run, { signalName: "" })]],
    ["child.spawned without child_run_id", () => [start(), b.childSpawned(run, { childRunId: "" })]],
    ["child.failed without child_run_id", () => [start(), b.childFailed(run, { childRunId: "" })]],
    ["context.updated without key", () => [start(), b.contextUpdated(run, { key: "" })]],
  ],
  stepCompletedNeedsStarted: [
    ["never started", () => [start(), b.stepCompleted(run, {}, step("a"))]],
    ["only scheduled", () => [start(), b.stepScheduled(run, {}, step("a")), b.stepCompleted(run, {}, step("a"))]],
    ["completed twice", () => [start(), b.stepStarted(run, {}, step("a")), b.stepCompleted(run, {}, step("a")), b.stepCompleted(run, {}, step("a"))]],
    ["awaiting its retry", () => [start(), b.stepStarted(run), b.stepFailed(run, { willRetry: true }), b.stepCompleted(run)]],
    ["another step started", () => [start(), b.stepStarted(run, {}, step("a")), b.stepCompleted(run, {}, step("b"))]],
  ],
  stepFailedNeedsStarted: [
    ["never started", () => [start(), b.stepFailed(run)]],
    ["after completing", () => [start(), b.stepStarted(run), b.stepCompleted(run), b.stepFailed(run)]],
    ["skipped", () => [start(), b.stepSkipped(run), b.stepFailed(run)]],
  ],
  stepScheduledNotRunning: [["running", () => [start(), b.stepStarted(run), b.stepScheduled(run)]]],
  stepSkippedNotRunning: [["running", () => [start(), b.stepStarted(run), b.stepSkipped(run)]]],
  signalNotAlreadyWaiting: [["waiting twice", () => [start(), b.signalWaiting(run), b.signalWaiting(run)]]],
  signalReceivedNeedsWaiting: [
    ["never awaited", () => [start(), b.signalReceived(run)]],
    ["received twice", () => [start(), b.signalWaiting(run), b.signalReceived(run), b.signalReceived(run)]],
    ["another signal awaited", () => [start(), b.signalWaiting(run, { signalName: "a" }), b.signalReceived(run, { signalName: "b" })]],
    ["after it timed out", () => [start(), b.signalWaiting(run), b.signalTimeout(run), b.signalReceived(run)]],
  ],
  signalTimeoutNeedsWaiting: [
    ["never awaited", () => [start(), b.signalTimeout(run)]],
    ["after it was received", () => [start(), b.signalWaiting(run), b.signalReceived(run), b.signalTimeout(run)]],
  ],
  childSpawnedOnce: [
    ["same id twice", () => [start(), b.childSpawned(run, { childRunId: "c" }), b.childSpawned(run, { childRunId: "c" })]],
    ["same id after it finished", () => [start(), b.childSpawned(run, { childRunId: "c" }), b.childCompleted(run, { childRunId: "c" }), b.childSpawned(run, { childRunId: "c" })]],
  ],
  childCompletedNeedsSpawned: [
    ["never spawned", () => [start(), b.childCompleted(run, { childRunId: "c" })]],
    ["completed twice", () => [start(), b.childSpawned(run, { childRunId: "c" }), b.childCompleted(run, { childRunId: "c" }), b.childCompleted(run, { childRunId: "c" })]],
  ],
  childFailedNeedsSpawned: [
    ["never spawned", () => [start(), b.childFailed(run, { childRunId: "c" })]],
    ["after completing", () => [start(), b.childSpawned(run, { childRunId: "c" }), b.childCompleted(run, { childRunId: "c" }), b.childFailed(run, { childRunId: "c" })]],
  ],
  mapStartedNotRunning: [["mapping twice", () => [start(), b.mapStarted(run, {}, step("m")), b.mapStarted(run, {}, step("m"))]]],
  mapCompletedNeedsStarted: [
    ["never started", () => [start(), b.mapCompleted(run, {}, step("m"))]],
    ["another step maps", () => [start(), b.mapStarted(run, {}, step("m")), b.mapCompleted(run, {}, step("n"))]],
  ],
  mapFailedNeedsStarted: [
    ["never started", () => [start(), b.mapFailed(run, {}, step("m"))]],
    ["after completing", () => [start(), b.mapStarted(run, {}, step("m")), b.mapCompleted(run, {}, step("m")), b.mapFailed(run, {}, step("m"))]],
  ],
  compensationStartedOnce: [
    ["twice while running", () => [start(), b.compensationStarted(run), b.compensationStarted(run)]],
    ["again after it completed", () => [start(), b.compensationStarted(run), b.compensationCompleted(run), b.compensationStarted(run)]],
    ["again after the failure that followed it", () => [start(), b.compensationStarted(run), b.compensationCompleted(run), b.workflowFailed(run), b.compensationStarted(run)]],
  ],
  compensationCompletedNeedsStarted: [
    ["never started", () => [start(), b.compensationCompleted(run)]],
    ["never started, after failure", () => [start(), b.workflowFailed(run), b.compensationCompleted(run)]],
    ["completed twice", () => [start(), b.compensationStarted(run), b.compensationCompleted(run), b.compensationCompleted(run)]],
  ],
  compensationFailedNeedsStarted: [
    ["never started", () => [start(), b.compensationFailed(run)]],
    ["after it failed", () => [start(), b.compensationStarted(run), b.compensationFailed(run), b.compensationFailed(run)]],
  ],
};

describe("lifecycle rule table", () => {
  it("has unique kebab-case names and a description, reason and source for each rule", () => {
    const rules = Object.values(lifecycleRules);
    expect(new Set(rules.map((r) => r.name)).size).toBe(rules.length);
    for (const r of rules) {
      expect(r.name).toMatch(/^[a-z]+(-[a-z]+)*$/);
      expect(r.rejects).not.toBe("");
      expect(r.why).not.toBe("");
      expect(r.source).not.toBe("");
    }
  });

  it("is the table documented in docs/lifecycle-rules.md", () => {
    const doc = readFileSync(new URL("../../docs/lifecycle-rules.md", import.meta.url), "utf8");
    const documented = [...doc.matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1]);
    expect(documented).toEqual(Object.values(lifecycleRules).map((r) => r.name));
  });

  for (const [key, cases] of Object.entries(violations) as [RuleKey, Array<[string, () => Event[]]>][]) {
    describe(lifecycleRules[key].name, () => {
      it.each(cases)("rejects: %s", (_label, history) => {
        expect(brokenRule(history())).toBe(lifecycleRules[key].name);
      });
    });
  }
});

describe("valid histories pass", () => {
  const valid: Array<[string, () => Event[]]> = [
    ["custom and snapshot events before workflow.started", () => [b.customEvent(run), b.snapshotEvent(run), start(), b.stepStarted(run)]],
    ["a run of custom events only", () => [b.customEvent(run), b.customEvent(run), b.snapshotEvent(run)]],
    ["custom and snapshot events mid-run", () => [start(), b.customEvent(run), b.snapshotEvent(run), b.workflowCompleted(run)]],
    ["a retry: failed with will_retry, started again, completed", () => [start(), b.stepStarted(run), b.stepFailed(run, { willRetry: true }), b.stepStarted(run), b.stepCompleted(run)]],
    ["a restart without an outcome (crash recovery)", () => [start(), b.stepStarted(run), b.stepStarted(run), b.stepCompleted(run)]],
    ["scheduling again after an outcome", () => [start(), b.stepScheduled(run), b.stepStarted(run), b.stepFailed(run, { willRetry: true }), b.stepScheduled(run), b.stepStarted(run)]],
    ["a loop back to a finished step", () => [start(), b.stepStarted(run), b.stepCompleted(run), b.stepStarted(run), b.stepFailed(run)]],
    ["skipping a scheduled or failed step", () => [start(), b.stepScheduled(run, {}, step("a")), b.stepSkipped(run, {}, step("a")), b.stepStarted(run), b.stepFailed(run), b.stepSkipped(run)]],
    ["waiting again after a signal resolved", () => [start(), b.signalWaiting(run), b.signalTimeout(run), b.signalWaiting(run), b.signalReceived(run)]],
    ["mapping again after a fan-out ended", () => [start(), b.mapStarted(run, {}, step("m")), b.mapFailed(run, {}, step("m")), b.mapStarted(run, {}, step("m")), b.mapCompleted(run, {}, step("m"))]],
    ["compensate, then fail", () => [start(), b.compensationStarted(run), b.compensationCompleted(run), b.workflowFailed(run)]],
    ["fail while compensating, then finish the rollback", () => [start(), b.compensationStarted(run), b.workflowFailed(run), b.compensationFailed(run)]],
    ["fail, then compensate", () => [start(), b.workflowFailed(run), b.compensationStarted(run), b.compensationCompleted(run)]],
    ["compensate, then complete", () => [start(), b.compensationStarted(run), b.compensationCompleted(run), b.workflowCompleted(run)]],
    ["completing with a step still running", () => [start(), b.stepStarted(run), b.workflowCompleted(run)]],
    ["cancelling while waiting", () => [start(), b.signalWaiting(run), b.workflowCancelled(run)]],
  ];
  it.each(valid)("%s", (_label, history) => {
    expect(() => checkAll(numbered(history()))).not.toThrow();
  });

  it.each(["retries-and-branch", "signal-wait", "map-fan-out", "compensation", "parent-child"])("golden history %s", (name) => {
    const fixture = loadFixture(name);
    for (const runId of fixture.expected.keys()) {
      const events = eventsOfRun(fixture.events, runId);
      const model = initialRunState(runId);
      events.forEach((event) => {
        checkLifecycle(model, event, eventTypeOf(event), event.sequence);
        evolve(model, event);
      });
    }
  });

  it("random valid histories (fast-check)", () => {
    fc.assert(
      fc.property(validHistory(run), (history) => {
        checkAll(history);
      }),
      { numRuns: 300 },
    );
  });

  it("does not change the state it checks", () => {
    const model = checkAll(numbered([start(), b.stepStarted(run)]));
    const before = JSON.stringify(model, (_k, v) => (typeof v === "bigint" ? v.toString() : v instanceof Map ? [...v] : v));
    expect(() => checkLifecycle(model, b.stepCompleted(run), eventTypeOf(b.stepCompleted(run)), 3n)).not.toThrow();
    expect(JSON.stringify(model, (_k, v) => (typeof v === "bigint" ? v.toString() : v instanceof Map ? [...v] : v))).toBe(before);
  });
});
