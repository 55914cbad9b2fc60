// Random histories for property tests. A history is built from a list of
// numbers: at each position the number picks one of the events the run may have
// next (and, divided down, the details of that event). The generator keeps its
// own small model of the run, independent of the reconstructor, so that the
// lifecycle rules are checked against it rather than against themselves.
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import fc from "fast-check";
import type { Event } from "../../gen/runlog/v1/event_pb.js";
import { typeOfPayloadCase } from "../../src/events/catalog.js";
import * as b from "../support/events.js";
import { baseMs } from "./helpers.js";

const stepNames = ["a", "b", "c", "d"];
const signalNames = ["s1", "s2", "s3"];
const contextKeys = ["k1", "k2", "__proto__", "7"];

type Option = (r: number) => Event;

/**
 * A history built from choices. valid: only events the lifecycle rules allow
 * (docs/lifecycle-rules.md); otherwise any event type in any order.
 */
export function buildHistory(runId: string, choices: readonly number[], valid = true): Event[] {
  const events: Event[] = [];
  let started = false;
  // Widened with `as`: the closures below change them, which control-flow narrowing cannot see.
  let ended = "" as "" | "completed" | "failed" | "cancelled";
  const running = new Set<string>();
  const waiting = new Set<string>();
  const children = new Map<string, boolean>(); // id → running
  const mapping = new Set<string>();
  let compensation = "none" as "none" | "running" | "done";
  let spawned = 0;
  const pick = <T>(list: readonly T[], r: number): T => list[r % list.length]!;
  const stepEnvelope = (name: string, output?: number) => ({ stepName: name, ...(output === undefined ? {} : { output: { n: output } }) });

  const o = {
    workflowStarted: (r: number) => {
      started = true;
      return b.workflowStarted(runId, { workflowName: `wf-${r % 3}`, version: r % 4, input: { r } });
    },
    workflowCompleted: (r: number) => {
      ended = "completed";
      return r % 2 === 0 ? b.workflowCompleted(runId, { output: { done: r } }) : b.workflowCompleted(runId, {}, { output: r });
    },
    workflowFailed: (r: number) => {
      ended = "failed";
      return b.workflowFailed(runId, { error: `e${r}`, failedStep: pick(stepNames, r), recoverable: r % 2 === 0 });
    },
    workflowCancelled: (r: number) => {
      ended = "cancelled";
      return b.workflowCancelled(runId, { reason: `why ${r}` });
    },
    stepScheduled: (name: string) => (r: number) => b.stepScheduled(runId, { dependencies: stepNames.slice(0, r % 3) }, { stepName: name }),
    stepStarted: (name: string) => (r: number) => {
      running.add(name);
      const q = Math.floor(r / 4);
      return b.stepStarted(runId, { ...(q % 2 === 0 ? {} : { attempt: q % 5 }), assignedTo: q % 3 === 0 ? ["u1"] : [] }, { stepName: name });
    },
    stepCompleted: (name: string) => (r: number) => {
      running.delete(name);
      return b.stepCompleted(runId, r % 2 === 0 ? {} : { duration: { seconds: BigInt(r % 7), nanos: r % 1000 } }, stepEnvelope(name, r));
    },
    stepFailed: (name: string) => (r: number) => {
      running.delete(name);
      return b.stepFailed(runId, { error: `x${r}`, attempt: r % 4, willRetry: r % 2 === 0 }, { stepName: name });
    },
    stepSkipped: (name: string) => (r: number) => b.stepSkipped(runId, { reason: `r${r % 3}` }, { stepName: name }),
    branch: (r: number) => b.branchEvaluated(runId, { branchName: `br${r % 2}`, choice: `c${r % 3}` }, { stepName: pick(stepNames, r) }),
    signalWaiting: (name: string) => (r: number) => {
      waiting.add(name);
      return b.signalWaiting(
        runId,
        { signalName: name, ...(r % 2 === 0 ? { timeoutAt: timestampFromMs(baseMs + r) } : {}) },
        { stepName: r % 3 === 0 ? "" : pick(stepNames, r) },
      );
    },
    signalReceived: (name: string) => (r: number) => {
      waiting.delete(name);
      return b.signalReceived(runId, { signalName: name, ...(r % 2 === 0 ? { payload: { ok: r } } : {}) });
    },
    signalTimeout: (name: string) => () => {
      waiting.delete(name);
      return b.signalTimeout(runId, { signalName: name });
    },
    childSpawned: (r: number) => {
      const id = `${runId}.child-${spawned++}`;
      children.set(id, true);
      return b.childSpawned(runId, { childRunId: id, workflowName: `cw${r % 2}`, input: [r] }, { stepName: pick(stepNames, r) });
    },
    childCompleted: (id: string) => (r: number) => {
      children.set(id, false);
      return r % 2 === 0 ? b.childCompleted(runId, { childRunId: id, output: { r } }) : b.childCompleted(runId, { childRunId: id }, { output: r });
    },
    childFailed: (id: string) => (r: number) => {
      children.set(id, false);
      return b.childFailed(runId, { childRunId: id, error: `c${r}` });
    },
    mapStarted: (name: string) => (r: number) => {
      mapping.add(name);
      return b.mapStarted(runId, { itemCount: r % 10 }, { stepName: name });
    },
    mapCompleted: (name: string) => (r: number) => {
      mapping.delete(name);
      return r % 2 === 0
        ? b.mapCompleted(runId, { results: [r, r + 1] }, { stepName: name })
        : b.mapCompleted(runId, {}, { stepName: name, output: [r] });
    },
    mapFailed: (name: string) => (r: number) => {
      mapping.delete(name);
      return b.mapFailed(runId, { failedIndex: r % 5, error: `m${r}` }, { stepName: name });
    },
    compensationStarted: (r: number) => {
      compensation = "running";
      return b.compensationStarted(runId, { triggerStep: pick(stepNames, r), stepsToUndo: stepNames.slice(r % 4) });
    },
    compensationCompleted: (r: number) => {
      compensation = "done";
      return b.compensationCompleted(runId, { stepsCompensated: stepNames.slice(r % 4) });
    },
    compensationFailed: (r: number) => {
      compensation = "done";
      return b.compensationFailed(runId, { failedStep: pick(stepNames, r), error: `u${r}` });
    },
    context: (r: number) => b.contextUpdated(runId, { key: pick(contextKeys, r), ...(r % 5 === 0 ? {} : { value: { v: r } }) }),
    custom: (r: number) => b.customEvent(runId, { name: `custom.${r % 3}`, json: { r } }),
    snapshot: () => b.snapshotEvent(runId),
  };

  for (let i = 0; i < choices.length; i++) {
    const c = choices[i]!;
    const options: Option[] = [];
    if (!valid) {
      options.push(
        o.workflowStarted, o.workflowCompleted, o.workflowFailed, o.workflowCancelled, (r) => o.stepScheduled(pick(stepNames, r))(r), (r) => o.stepStarted(pick(stepNames, r))(r),
        (r) => o.stepCompleted(pick(stepNames, r))(r), (r) => o.stepFailed(pick(stepNames, r))(r),
        (r) => o.stepSkipped(pick(stepNames, r))(r), o.branch,
        (r) => o.signalWaiting(pick(signalNames, r))(r), (r) => o.signalReceived(pick(signalNames, r))(r),
        (r) => o.signalTimeout(pick(signalNames, r))(), o.childSpawned,
        (r) => o.childCompleted(`${runId}.child-${r % 3}`)(r), (r) => o.childFailed(`${runId}.child-${r % 3}`)(r),
        (r) => o.mapStarted(pick(stepNames, r))(r), (r) => o.mapCompleted(pick(stepNames, r))(r),
        (r) => o.mapFailed(pick(stepNames, r))(r), o.compensationStarted, o.compensationCompleted, o.compensationFailed,
        o.context, o.custom, o.snapshot,
      );
    } else if (ended === "completed" || ended === "cancelled") {
      break;
    } else if (ended === "failed") {
      if (compensation === "none") options.push(o.compensationStarted);
      if (compensation === "running") options.push(o.compensationCompleted, o.compensationFailed);
      if (options.length === 0) break;
    } else if (!started) {
      options.push(o.workflowStarted, o.custom, o.snapshot);
    } else {
      options.push(o.branch, o.context, o.custom, o.snapshot, o.childSpawned);
      // Weighted towards starting and finishing steps, the bulk of real histories.
      for (const name of stepNames) {
        if (running.has(name)) options.push(o.stepCompleted(name), o.stepCompleted(name), o.stepFailed(name), o.stepStarted(name));
        else options.push(o.stepStarted(name), o.stepStarted(name), o.stepScheduled(name), o.stepSkipped(name));
      }
      for (const name of signalNames) {
        if (waiting.has(name)) options.push(o.signalReceived(name), o.signalTimeout(name));
        else options.push(o.signalWaiting(name));
      }
      for (const [id, isRunning] of children) if (isRunning) options.push(o.childCompleted(id), o.childFailed(id));
      for (const name of stepNames.slice(0, 2)) {
        if (mapping.has(name)) options.push(o.mapCompleted(name), o.mapFailed(name));
        else options.push(o.mapStarted(name));
      }
      if (compensation === "none") options.push(o.compensationStarted);
      if (compensation === "running") options.push(o.compensationCompleted, o.compensationFailed);
      // Ending is rare, so that histories grow long enough to cross snapshots.
      if (c % 16 === 0) options.push(o.workflowCompleted, o.workflowFailed, o.workflowCancelled);
    }
    const r = Math.floor(c / 16);
    events.push(options[r % options.length]!(Math.floor(r / options.length)));
  }
  // As a store would hold them: sequences, IDs, resolved types, timestamps
  // (mostly increasing, sometimes not: a derived duration may be negative).
  events.forEach((event, i) => {
    const sequence = i + 1;
    event.sequence = BigInt(sequence);
    event.id = `00000000-0000-4000-8000-${sequence.toString(16).padStart(12, "0")}`;
    event.type = typeOfPayloadCase(event.payload.case!);
    event.timestamp = timestampFromMs(baseMs + sequence * 1000 + ((choices[i]! % 7) - 1) * 400);
  });
  return events;
}

const choice = fc.nat({ max: 1 << 24 });

/** A lifecycle-valid history of one run. */
export function validHistory(runId: string, maxLength = 120): fc.Arbitrary<Event[]> {
  return fc.array(choice, { minLength: 1, maxLength, size: "max" }).map((choices) => buildHistory(runId, choices, true));
}

/** Any sequence of events of one run, valid or not. */
export function anyHistory(runId: string, maxLength = 80): fc.Arbitrary<Event[]> {
  return fc.array(choice, { minLength: 1, maxLength, size: "max" }).map((choices) => buildHistory(runId, choices, false));
}
