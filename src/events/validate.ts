// Validation of one event as written by a client: the envelope rules of
// ARCHITECTURE §3. It checks, it never changes the event (normalization is the store's).
import { EventType, type Event } from "../../gen/runlog/v1/event_pb.js";
import { InvalidArgumentError } from "../errors.js";
import type { Limits } from "../limits.js";
import { isCompletionType, isKnownEventType, typeOfPayloadCase } from "./catalog.js";

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// C0 controls, DEL and C1 controls.
const controlCharacters = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * How errors name the i-th of `count` events: "event" alone, else "events[i]".
 * The names are made once per index and kept: validation names every event it
 * checks, and a fresh string per event showed in the append profile.
 */
export function eventField(count: number, i: number): string {
  if (count === 1) return "event";
  let name = eventFields[i];
  if (name === undefined) {
    name = `events[${i}]`;
    if (i < maxKeptFields) eventFields[i] = name;
  }
  return name;
}
const eventFields: string[] = [];
const maxKeptFields = 100_000;

/** The last run ID found free of control characters: a batch repeats its run ID in every event. */
let lastValidRunId = "";

// The checks below name the field in errors as `field` + `suffix` ("events[3]" +
// ".run_id"): joined only when they throw, since validation runs for every event
// appended and building each name eagerly was a string per check per event.

/** Checks a run ID: required, bounded, no control characters. */
export function validateRunId(runId: string, field: string, limits: Limits, suffix = ""): void {
  if (runId === lastValidRunId && runId.length !== 0 && runId.length <= limits.maxRunIdLength) return;
  if (runId.length === 0) throw new InvalidArgumentError(field + suffix, "is required");
  if (runId.length > limits.maxRunIdLength) {
    throw new InvalidArgumentError(field + suffix, `is longer than ${limits.maxRunIdLength} characters`);
  }
  if (controlCharacters.test(runId)) throw new InvalidArgumentError(field + suffix, "contains control characters");
  lastValidRunId = runId;
}

function validateName(value: string, field: string, suffix: string, limits: Limits, required: boolean): void {
  if (required && value.length === 0) throw new InvalidArgumentError(field + suffix, "is required");
  if (value.length > limits.maxNameLength) {
    throw new InvalidArgumentError(field + suffix, `is longer than ${limits.maxNameLength} characters`);
  }
}

/** The event type an event stands for: its declared type, checked against its payload. */
export function resolveEventType(event: Event, field: string): EventType {
  const payloadCase = event.payload.case;
  if (payloadCase === undefined) throw new InvalidArgumentError(`${field}.payload`, "is required");
  const derived = typeOfPayloadCase(payloadCase);
  if (event.type === EventType.UNSPECIFIED) return derived;
  if (!isKnownEventType(event.type)) throw new InvalidArgumentError(`${field}.type`, `unknown event type ${event.type}`);
  if (event.type !== derived) {
    throw new InvalidArgumentError(`${field}.type`, `${EventType[event.type]} does not match payload ${payloadCase}`);
  }
  return derived;
}

/**
 * Checks one event. `field` names it in errors, e.g. "event" or "events[3]".
 * Returns the resolved event type.
 */
export function validateEvent(event: Event, field: string, limits: Limits): EventType {
  if (event.id !== "" && !uuidPattern.test(event.id)) throw new InvalidArgumentError(`${field}.id`, "is not a UUID");
  validateRunId(event.runId, field, limits, ".run_id");
  if (event.sequence < 0n) throw new InvalidArgumentError(`${field}.sequence`, "must not be negative");
  if (event.version < 0) throw new InvalidArgumentError(`${field}.version`, "must not be negative");
  const type = resolveEventType(event, field);
  validateName(event.stepName, field, ".step_name", limits, false);
  if (event.output !== undefined && !isCompletionType(type)) {
    throw new InvalidArgumentError(`${field}.output`, `is only allowed on completion events, not ${EventType[type]}`);
  }
  if (event.payload.case === "custom") {
    validateName(event.payload.value.name, field, ".custom.name", limits, true);
  }
  validateMetadata(event.metadata, field, limits);
  return type;
}

/** `event`: the event's field name; the errors name `<event>.metadata`. */
function validateMetadata(metadata: Record<string, string>, event: string, limits: Limits): void {
  let entries = 0;
  let size = 0;
  for (const key in metadata) {
    entries++;
    if (key.length === 0) throw new InvalidArgumentError(`${event}.metadata`, "has an empty key");
    if (key.length > limits.maxNameLength) {
      throw new InvalidArgumentError(`${event}.metadata[${JSON.stringify(key.slice(0, 32))}]`, `key is longer than ${limits.maxNameLength} characters`);
    }
    size += key.length + (metadata[key]?.length ?? 0);
  }
  if (entries > limits.maxMetadataEntries) {
    throw new InvalidArgumentError(`${event}.metadata`, `has ${entries} entries, more than ${limits.maxMetadataEntries}`);
  }
  if (size > limits.maxMetadataSize) {
    throw new InvalidArgumentError(`${event}.metadata`, `is ${size} characters, more than ${limits.maxMetadataSize}`);
  }
}
